//! cwl-audit: collect AWS configuration snapshots and evaluate them offline with Rego.
pub mod fsutil;
pub mod pattern;
