//! cwl-audit: collect AWS configuration snapshots and evaluate them offline with Rego.
//!
//! Data flows one way: [`collect`] (feature `collect`, AWS SDK) -> snapshot files -> [`snapshot`] (load, check, locate) -> [`engine`] (regorus,
//! builtins, METADATA) -> [`findings`] -> [`report`] (text, JSON, JUnit, SARIF, OCSF, ASFF, HTML). [`eval`] runs that
//! pipeline; [`pattern`] is the pure filter-pattern library behind the `cwl.*` builtins.
pub mod arn;
#[cfg(feature = "collect")]
pub mod collect;
pub mod diff;
pub mod engine;
pub mod eval;
pub mod findings;
pub mod fsutil;
pub mod iam;
pub mod manifest;
pub mod memlimit;
pub mod pattern;
pub mod regotest;
pub mod remediate;
pub mod report;
pub mod snapshot;
#[cfg(test)]
mod testing;
pub mod text;
