//! Amazon Q Developer's daily user activity reports for a seeded organisation: one CSV per day
//! under the documented S3 key layout
//! (`<prefix>/AWSLogs/<account>/QDeveloperLogs/by_user_analytic/<region>/<yyyy>/<mm>/<dd>/00/<account>_by_user_analytic_<timestamp>.csv`,
//! split into `_part_N` files above 1,000 users), one row per seat holder active that day,
//! `UserId` (the Identity Center user id), `Date`, then the metric columns.
//!
//! Holders behave in three ways: most are active on most working days, a few stopped weeks ago
//! (idle seats) and a few never used their seat. Everything is a function of the seed and the
//! date, so reports are generated when asked for, never stored.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use sha2::{Digest, Sha256};

use crate::instance::PrincipalType;
use crate::seed::Organisation;

/// Days of reports kept, ending yesterday.
pub const DAYS: i64 = 60;

/// Users per CSV file before it is split into parts.
pub const ROWS_PER_FILE: usize = 1000;

/// The documented metric columns, after `UserId` and `Date`.
pub const METRICS: &[&str] = &[
    "Chat_AICodeLines",
    "Chat_MessagesInteracted",
    "Chat_MessagesSent",
    "CodeFix_AcceptanceEventCount",
    "CodeFix_AcceptedLines",
    "CodeFix_GeneratedLines",
    "CodeFix_GenerationEventCount",
    "CodeReview_FailedEventCount",
    "CodeReview_FindingsCount",
    "CodeReview_SucceededEventCount",
    "Dev_AcceptanceEventCount",
    "Dev_AcceptedLines",
    "Dev_GeneratedLines",
    "Dev_GenerationEventCount",
    "DocGeneration_AcceptedFileUpdates",
    "DocGeneration_AcceptedFilesCreations",
    "DocGeneration_AcceptedLineAdditions",
    "DocGeneration_AcceptedLineUpdates",
    "DocGeneration_EventCount",
    "DocGeneration_RejectedFileCreations",
    "DocGeneration_RejectedFileUpdates",
    "DocGeneration_RejectedLineAdditions",
    "DocGeneration_RejectedLineUpdates",
    "InlineChat_AcceptanceEventCount",
    "InlineChat_AcceptedLineAdditions",
    "InlineChat_AcceptedLineDeletions",
    "InlineChat_DismissalEventCount",
    "InlineChat_DismissedLineAdditions",
    "InlineChat_DismissedLineDeletions",
    "InlineChat_RejectedLineAdditions",
    "InlineChat_RejectedLineDeletions",
    "InlineChat_RejectionEventCount",
    "InlineChat_TotalEventCount",
    "Inline_AICodeLines",
    "Inline_AcceptanceCount",
    "Inline_SuggestionsCount",
    "TestGeneration_AcceptedLines",
    "TestGeneration_AcceptedTests",
    "TestGeneration_EventCount",
    "TestGeneration_GeneratedLines",
    "TestGeneration_GeneratedTests",
    "Transformation_EventCount",
    "Transformation_LinesGenerated",
    "Transformation_LinesIngested",
];

/// How a seat holder uses Q Developer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Active on about this share (percent) of working days.
    Regular(u8),
    /// Used it until this day, then stopped (an idle seat).
    StoppedOn(NaiveDate),
    /// Never used the seat.
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Identity Center user id (the report's `UserId`).
    pub user_id: String,
    pub usage: Usage,
}

/// One CSV object of the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportObject {
    pub key: String,
    pub day: NaiveDate,
    /// 0 for a single file; 1.. for `_part_N` files.
    pub part: usize,
    pub size: usize,
    /// Quoted MD5 of the content, as S3 gives for single-part uploads.
    pub etag: String,
}

/// The reports of one organisation, generated on demand.
#[derive(Debug)]
pub struct ActivityReports {
    pub bucket: String,
    pub prefix: String,
    pub account: String,
    pub region: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub holders: Vec<Holder>,
    seed: u64,
    /// Object listing, built on first use (it needs each file's size).
    listing: Mutex<Option<Vec<ReportObject>>>,
}

fn day_hash(seed: u64, user: &str, day: NaiveDate, salt: &str) -> u64 {
    let digest = Sha256::digest(format!("{seed}:{user}:{day}:{salt}").as_bytes());
    u64::from_le_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ])
}

impl ActivityReports {
    /// The seat holders of `org` (members of the subscribed group who reached Identity Center,
    /// and users assigned directly) with their usage, reports from `DAYS` days before `today`
    /// to yesterday. About one holder in twenty stopped three to six weeks ago, one in twenty
    /// never started.
    pub fn from_organisation(org: &Organisation, today: NaiveDate) -> Self {
        let mut ids: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        if let Some(q) = org.q_group() {
            for &p in &org.groups[q].members {
                if let Some(Some(id)) = org.provisioned_user.get(p)
                    && seen.insert(id.clone())
                {
                    ids.push(id.clone());
                }
            }
        }
        for a in &org.instance.assignments {
            if a.principal_type == PrincipalType::User && seen.insert(a.principal_id.clone()) {
                ids.push(a.principal_id.clone());
            }
        }
        let seed = org.spec.seed;
        let holders = ids
            .into_iter()
            .enumerate()
            .map(|(i, user_id)| {
                let usage = match i % 20 {
                    7 => Usage::StoppedOn(today - Duration::days(21 + (i % 3) as i64 * 7)),
                    13 => Usage::Never,
                    _ => Usage::Regular(50 + (day_hash(seed, &user_id, today, "share") % 45) as u8),
                };
                Holder { user_id, usage }
            })
            .collect();
        let account = org.instance.owner_account_id.clone();
        Self {
            bucket: format!("{}-q-developer-reports", org.spec.name),
            prefix: "q-user-activity".into(),
            account,
            region: "us-east-1".into(),
            first_day: today - Duration::days(DAYS),
            last_day: today - Duration::days(1),
            holders,
            seed,
            listing: Mutex::new(None),
        }
    }

    /// Holders who stopped using their seat, and when.
    pub fn idle(&self) -> Vec<(&str, NaiveDate)> {
        self.holders
            .iter()
            .filter_map(|h| match h.usage {
                Usage::StoppedOn(d) => Some((h.user_id.as_str(), d)),
                _ => None,
            })
            .collect()
    }

    /// Holders who never used their seat.
    pub fn never_used(&self) -> Vec<&str> {
        self.holders
            .iter()
            .filter(|h| h.usage == Usage::Never)
            .map(|h| h.user_id.as_str())
            .collect()
    }

    fn active_on(&self, holder: &Holder, day: NaiveDate) -> bool {
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        let share = match holder.usage {
            Usage::Never => return false,
            Usage::StoppedOn(last) if day > last => return false,
            Usage::StoppedOn(_) => 70,
            Usage::Regular(share) => share,
        };
        let share = if weekend { share / 10 } else { share };
        day_hash(self.seed, &holder.user_id, day, "active") % 100 < u64::from(share)
    }

    /// Rows of `day`: `UserId`, `Date`, then one value per metric.
    pub fn rows(&self, day: NaiveDate) -> Vec<Vec<String>> {
        self.holders
            .iter()
            .filter(|h| self.active_on(h, day))
            .map(|h| {
                let mut row = vec![h.user_id.clone(), day.format("%Y-%m-%d").to_string()];
                let base = day_hash(self.seed, &h.user_id, day, "volume");
                for (i, metric) in METRICS.iter().enumerate() {
                    let n = (base.rotate_left(i as u32 * 7) % 40) as u32;
                    // Headline metrics are busier than the long tail.
                    let v = if metric.starts_with("Inline_") || metric.starts_with("Chat_") {
                        n * 3
                    } else {
                        n.saturating_sub(30)
                    };
                    row.push(v.to_string());
                }
                row
            })
            .collect()
    }

    fn key(&self, day: NaiveDate, part: usize) -> String {
        // The timestamp of the run that wrote the file: just after midnight UTC the next day.
        let written = (day + Duration::days(1))
            .and_hms_opt(0, 4, 17)
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or_default();
        let suffix = if part == 0 {
            String::new()
        } else {
            format!("_part_{part}")
        };
        format!(
            "{}/AWSLogs/{}/QDeveloperLogs/by_user_analytic/{}/{}/00/{}_by_user_analytic_{written}{suffix}.csv",
            self.prefix,
            self.account,
            self.region,
            day.format("%Y/%m/%d"),
            self.account
        )
    }

    /// The CSV files of `day` as (part, content).
    fn files(&self, day: NaiveDate) -> Result<Vec<(usize, Vec<u8>)>, csv::Error> {
        let rows = self.rows(day);
        let chunks: Vec<&[Vec<String>]> = if rows.len() <= ROWS_PER_FILE {
            vec![rows.as_slice()]
        } else {
            rows.chunks(ROWS_PER_FILE).collect()
        };
        let split = chunks.len() > 1;
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let mut out = csv::Writer::from_writer(Vec::new());
                let mut header = vec!["UserId", "Date"];
                header.extend_from_slice(METRICS);
                out.write_record(&header)?;
                for row in chunk {
                    out.write_record(row)?;
                }
                let bytes = out.into_inner().map_err(|e| e.into_error())?;
                Ok((if split { i + 1 } else { 0 }, bytes))
            })
            .collect()
    }

    /// Every report object, sorted by key (as ListObjectsV2 returns them).
    pub fn objects(&self) -> Result<Vec<ReportObject>, csv::Error> {
        if let Ok(listing) = self.listing.lock()
            && let Some(objects) = listing.as_ref()
        {
            return Ok(objects.clone());
        }
        let mut objects = Vec::new();
        let mut day = self.first_day;
        while day <= self.last_day {
            for (part, bytes) in self.files(day)? {
                objects.push(ReportObject {
                    key: self.key(day, part),
                    day,
                    part,
                    size: bytes.len(),
                    etag: etag(&bytes),
                });
            }
            day += Duration::days(1);
        }
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        if let Ok(mut listing) = self.listing.lock() {
            *listing = Some(objects.clone());
        }
        Ok(objects)
    }

    /// The content of the object at `key`, if there is one.
    pub fn object(&self, key: &str) -> Result<Option<(ReportObject, Vec<u8>)>, csv::Error> {
        let by_key: HashMap<String, ReportObject> = self
            .objects()?
            .into_iter()
            .map(|o| (o.key.clone(), o))
            .collect();
        let Some(object) = by_key.get(key).cloned() else {
            return Ok(None);
        };
        Ok(self
            .files(object.day)?
            .into_iter()
            .find(|(part, _)| *part == object.part)
            .map(|(_, bytes)| (object, bytes)))
    }
}

fn etag(bytes: &[u8]) -> String {
    use md5::Digest as _;
    format!("\"{}\"", hex::encode(md5::Md5::digest(bytes)))
}
