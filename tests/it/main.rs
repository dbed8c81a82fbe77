//! The integration tests, one binary: each module was a test binary of its own, and each of those
//! linked the whole crate with the AWS SDK (measured in README's Development section). Modules share
//! `support` (snapshot builders, the binary, the emulator, the generator); emulator tests share
//! nothing else: each module has its own moto server (`support::emulator::Emulator`).
// A failed unwrap in a test is the test failing.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod benchmarks;
mod cli;
mod collect_moto;
mod collect_org;
mod completions;
mod examples;
mod formats;
mod generative;
mod hostile;
mod html;
mod pattern_props;
mod remediate;
mod scenarios;
mod workflow;
