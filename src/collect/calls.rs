//! One function per API call; each returns the CLI-shaped JSON or the snapshot error entry. Every
//! paginated operation is read to its last page; a failure on any page fails the whole call (a
//! partial list must never look like a complete one).
use super::convert;
use super::errors::entry;
use super::ratelimit::RateLimit;
use crate::snapshot::CollectionError;
use serde_json::Value;

/// STS GetCallerIdentity: (account id, partition from the caller ARN).
pub async fn caller_identity(c: &aws_sdk_sts::Client) -> Result<(String, String), CollectionError> {
    let out = c
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| entry("sts", "GetCallerIdentity", None, &e))?;
    let account = out.account.unwrap_or_default();
    let partition = out
        .arn
        .as_deref()
        .and_then(crate::arn::Arn::parse)
        .map(|a| a.partition)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_string();
    Ok((account, partition))
}

/// Account ListRegions: the regions enabled for the account (opted in, or enabled by default).
pub async fn list_enabled_regions(
    c: &aws_sdk_account::Client,
) -> Result<Vec<String>, CollectionError> {
    use aws_sdk_account::types::RegionOptStatus;
    let mut pages = c
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    let mut regions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| entry("account", "ListRegions", None, &e))?;
        regions.extend(
            page.regions
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.region_name),
        );
    }
    Ok(regions)
}

/// CloudTrail DescribeTrails with shadow trails (not paginated by the API): `trailList`.
pub async fn describe_trails(
    c: &aws_sdk_cloudtrail::Client,
) -> Result<Vec<Value>, CollectionError> {
    let out = c
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| entry("cloudtrail", "DescribeTrails", None, &e))?;
    Ok(out
        .trail_list
        .unwrap_or_default()
        .iter()
        .map(convert::trail)
        .collect())
}

/// CloudTrail GetTrailStatus of one home-region trail.
pub async fn get_trail_status(
    c: &aws_sdk_cloudtrail::Client,
    arn: &str,
) -> Result<Value, CollectionError> {
    let out = c
        .get_trail_status()
        .name(arn)
        .send()
        .await
        .map_err(|e| entry("cloudtrail", "GetTrailStatus", Some(arn), &e))?;
    Ok(convert::trail_status(&out))
}

/// CloudTrail GetEventSelectors of one home-region trail.
pub async fn get_event_selectors(
    c: &aws_sdk_cloudtrail::Client,
    arn: &str,
) -> Result<Value, CollectionError> {
    let out = c
        .get_event_selectors()
        .trail_name(arn)
        .send()
        .await
        .map_err(|e| entry("cloudtrail", "GetEventSelectors", Some(arn), &e))?;
    Ok(convert::event_selectors(&out))
}

/// CloudWatch Logs DescribeMetricFilters of every log group: `metricFilters`.
pub async fn describe_metric_filters(
    c: &aws_sdk_cloudwatchlogs::Client,
) -> Result<Vec<Value>, CollectionError> {
    let mut pages = c.describe_metric_filters().into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| entry("logs", "DescribeMetricFilters", None, &e))?;
        all.extend(
            page.metric_filters
                .unwrap_or_default()
                .iter()
                .map(convert::metric_filter),
        );
    }
    Ok(all)
}

/// CloudWatch DescribeAlarms, metric and composite: (`MetricAlarms`, `CompositeAlarms`).
pub async fn describe_alarms(
    c: &aws_sdk_cloudwatch::Client,
) -> Result<(Vec<Value>, Vec<Value>), CollectionError> {
    use aws_sdk_cloudwatch::types::AlarmType;
    let mut pages = c
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .into_paginator()
        .send();
    let (mut metric, mut composite) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| entry("cloudwatch", "DescribeAlarms", None, &e))?;
        metric.extend(
            page.metric_alarms
                .unwrap_or_default()
                .iter()
                .map(convert::metric_alarm),
        );
        composite.extend(
            page.composite_alarms
                .unwrap_or_default()
                .iter()
                .map(convert::composite_alarm),
        );
    }
    Ok((metric, composite))
}

/// SNS ListSubscriptions (all topics of the region): `Subscriptions`.
pub async fn list_subscriptions(
    c: &aws_sdk_sns::Client,
    redact: bool,
) -> Result<Vec<Value>, CollectionError> {
    let mut pages = c.list_subscriptions().into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| entry("sns", "ListSubscriptions", None, &e))?;
        all.extend(
            page.subscriptions
                .unwrap_or_default()
                .iter()
                .map(|s| convert::subscription(s, redact)),
        );
    }
    Ok(all)
}

/// An account as Organizations lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedAccount {
    pub id: String,
    pub name: Option<String>,
    /// `State` (ACTIVE, SUSPENDED, ...), or the retired `Status` where `State` is absent.
    pub state: Option<String>,
}

fn org_account(a: &aws_sdk_organizations::types::Account) -> ListedAccount {
    ListedAccount {
        id: a.id.clone().unwrap_or_default(),
        name: a.name.clone(),
        state: a
            .state
            .as_ref()
            .map(|s| s.as_str().to_string())
            .or_else(|| a.status.as_ref().map(|s| s.as_str().to_string())),
    }
}

/// The organization of the caller.
#[derive(Debug, Clone)]
pub struct OrgInfo {
    pub id: String,
    pub management_account_id: String,
}

/// Organizations DescribeOrganization: the organization's id and management account.
pub async fn describe_organization(
    c: &aws_sdk_organizations::Client,
    limit: &RateLimit,
) -> Result<OrgInfo, CollectionError> {
    limit.acquire().await;
    let out = c
        .describe_organization()
        .send()
        .await
        .map_err(|e| entry("organizations", "DescribeOrganization", None, &e))?;
    let org = out.organization.as_ref();
    Ok(OrgInfo {
        id: org.and_then(|o| o.id.clone()).unwrap_or_default(),
        management_account_id: org
            .and_then(|o| o.master_account_id.clone())
            .unwrap_or_default(),
    })
}

/// Organizations ListAccounts: every account of the organization, whatever its state.
pub async fn list_accounts(
    c: &aws_sdk_organizations::Client,
    limit: &RateLimit,
) -> Result<Vec<ListedAccount>, CollectionError> {
    let mut pages = c.list_accounts().into_paginator().send();
    let mut all = Vec::new();
    loop {
        limit.acquire().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| entry("organizations", "ListAccounts", None, &e))?;
        all.extend(page.accounts.unwrap_or_default().iter().map(org_account));
    }
    Ok(all)
}

/// Organizations ListRoots: the roots of the organization (one today), with their names.
pub async fn list_roots(
    c: &aws_sdk_organizations::Client,
    limit: &RateLimit,
) -> Result<Vec<(String, String)>, CollectionError> {
    let mut pages = c.list_roots().into_paginator().send();
    let mut all = Vec::new();
    loop {
        limit.acquire().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| entry("organizations", "ListRoots", None, &e))?;
        all.extend(
            page.roots
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| Some((r.id?, r.name.unwrap_or_default()))),
        );
    }
    Ok(all)
}

/// Organizations ListOrganizationalUnitsForParent: the OUs directly below `parent` (a root or an
/// OU), with their names.
pub async fn list_ous_for_parent(
    c: &aws_sdk_organizations::Client,
    limit: &RateLimit,
    parent: &str,
) -> Result<Vec<(String, String)>, CollectionError> {
    let mut pages = c
        .list_organizational_units_for_parent()
        .parent_id(parent)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    loop {
        limit.acquire().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|e| {
            entry(
                "organizations",
                "ListOrganizationalUnitsForParent",
                Some(parent),
                &e,
            )
        })?;
        all.extend(
            page.organizational_units
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| Some((o.id?, o.name.unwrap_or_default()))),
        );
    }
    Ok(all)
}

/// Organizations ListAccountsForParent: the accounts directly in `parent`.
pub async fn list_accounts_for_parent(
    c: &aws_sdk_organizations::Client,
    limit: &RateLimit,
    parent: &str,
) -> Result<Vec<ListedAccount>, CollectionError> {
    let mut pages = c
        .list_accounts_for_parent()
        .parent_id(parent)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    loop {
        limit.acquire().await;
        let Some(page) = pages.next().await else {
            break;
        };
        let page =
            page.map_err(|e| entry("organizations", "ListAccountsForParent", Some(parent), &e))?;
        all.extend(page.accounts.unwrap_or_default().iter().map(org_account));
    }
    Ok(all)
}
