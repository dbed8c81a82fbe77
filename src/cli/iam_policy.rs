//! `cwl-audit iam-policy`: the least-privilege policies of `collect`, and the member role's StackSet.
use super::messages::fail;
use super::output::emit;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Print the policies of `collect --organization`: the management side's (Organizations, STS
    /// AssumeRole of the member role, and its own account's reads) and the member role's.
    #[arg(long)]
    organization: bool,
    /// The member role's name (in the management policy's AssumeRole resource and the StackSet).
    #[arg(long, value_name = "NAME", default_value = cwl_audit::iam::DEFAULT_MEMBER_ROLE, requires = "organization")]
    member_role: String,
    /// The partition of the role ARNs.
    #[arg(long, value_name = "P", default_value = "aws", value_parser = cwl_audit::arn::PARTITIONS, requires = "organization")]
    partition: String,
    /// Print a CloudFormation template (YAML) of the member role, for a service-managed StackSet.
    #[arg(long, requires = "organization")]
    stackset: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let role = &args.member_role;
    if !cwl_audit::arn::is_role_name(role) {
        return Err(fail(format!(
            "--member-role {role:?} is not a role name (1-64 letters, digits and +=,.@_-)"
        )));
    }
    let text = if !args.organization {
        cwl_audit::iam::policy_json()
    } else if args.stackset {
        cwl_audit::iam::stackset_template(&args.member_role)
    } else {
        cwl_audit::iam::organization_policies_json(&args.partition, &args.member_role)
    };
    emit(None, text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

pub const HELP: &str = "Examples:\n  cwl-audit iam-policy\n  cwl-audit iam-policy --organization --member-role CwlAuditReadOnly\n  cwl-audit iam-policy --organization --stackset > cwl-audit-member-role.yaml";
