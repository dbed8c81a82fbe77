//! Output sinks. Each turns a [`RunResult`] into bytes and knows nothing about Rego or snapshots.
pub mod asff;
pub mod html;
mod interop;
mod json;
mod junit;
pub mod ocsf;
pub mod sarif;
mod text;
pub mod uri;

use crate::findings::RunResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: grouped by account and cause (coloured on a terminal).
    Text,
    /// The whole result: findings with chains and locations, notifications, summary.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).
    Sarif,
    /// JUnit XML for CI test reports: a suite per rule, a case per account.
    Junit,
    /// OCSF 1.5 Compliance Findings (a JSON array), for Security Lake and SIEMs.
    Ocsf,
    /// AWS Security Finding Format: one BatchImportFindings request body per line, for Security Hub.
    Asff,
    /// One self-contained HTML page: the accounts x rules matrix and each account's chains.
    Html,
}

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours in text output.
    pub color: bool,
    /// SARIF `automationDetails.id`, e.g. `cwl-audit/prod/` (one category per upload).
    pub category: Option<String>,
    /// Text detail: -1 (`-q`) only failing and unknown verdicts and errors, 0 default, 1+ (`-v`)
    /// also each account's chain evidence.
    pub verbosity: i8,
    /// What SARIF URIs are relative to (`--source-root`, else found from the snapshot paths);
    /// `None`: found from the run's inputs.
    pub source_root: Option<uri::SourceRoot>,
}

pub fn render(format: Format, result: &RunResult, opts: &RenderOptions) -> Vec<u8> {
    match format {
        Format::Text => text::render_with(result, opts.color, opts.verbosity).into_bytes(),
        Format::Json => json::render(result),
        Format::Sarif => {
            let root = opts.source_root.clone().unwrap_or_else(|| {
                let inputs: Vec<std::path::PathBuf> =
                    result.inputs.iter().map(std::path::PathBuf::from).collect();
                uri::SourceRoot::discover(&inputs)
            });
            sarif::render(result, opts.category.as_deref(), &root)
        }
        Format::Junit => junit::render(result).into_bytes(),
        Format::Ocsf => ocsf::render(result),
        Format::Asff => asff::render(result),
        Format::Html => html::render(result),
    }
}
#[cfg(test)]
mod tests;
