//! What a warehouse's status upload means, as data: `order_status.csv` maps each status
//! (`WMS_ORDER_STATUS_UPLOAD`'s `status`) to an event, `customs_reasons.csv` maps a
//! customs failure's reason text to a class by the first substring it contains. A
//! warehouse that words it differently edits the tables, not the code; `bondmap check`
//! checks them (known events and classes, no key twice).
//!
//! ```text
//! # order_status.csv                # customs_reasons.csv
//! status,event                      contains,class
//! CUSTOMS_PASSED,customs_passed     支付单,payment_missing
//! CUSTOMS_FAILED,customs_failed     身份,buyer_identity
//! *,noted                           额度,over_quota
//! ```
//!
//! `*` in the status table is every status it does not list (without it, those are
//! noted too); a reason no row matches is `other`. Lines starting with `#` are comments.

use std::path::{Path, PathBuf};

/// The status table's file name (beside the cancel mapping, `mappings/cainiao/`).
pub const STATUS_FILE: &str = "order_status.csv";
/// The reasons table's file name (beside it).
pub const REASONS_FILE: &str = "customs_reasons.csv";

/// What a status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Customs cleared the order.
    Passed,
    /// Customs stopped it.
    Failed,
    /// Kept in the order's history, nothing else.
    Noted,
}

impl Event {
    const ALL: [Event; 3] = [Event::Passed, Event::Failed, Event::Noted];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Passed => "customs_passed",
            Event::Failed => "customs_failed",
            Event::Noted => "noted",
        }
    }
}

/// Why customs stopped an order, as far as bondmap acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Customs lacks the payment record (支付单): RED is asked to push it again.
    PaymentMissing,
    /// The buyer's name and ID number do not match (实名认证): a person.
    BuyerIdentity,
    /// Over the buyer's yearly quota (26,000 yuan) or the single-order limit: a person.
    OverQuota,
    /// Anything else: a person.
    Other,
}

impl Class {
    const ALL: [Class; 4] = [
        Class::PaymentMissing,
        Class::BuyerIdentity,
        Class::OverQuota,
        Class::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::PaymentMissing => "payment_missing",
            Class::BuyerIdentity => "buyer_identity",
            Class::OverQuota => "over_quota",
            Class::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// For a person: what the class means.
    pub fn words(self) -> &'static str {
        match self {
            Class::PaymentMissing => "customs lacks the payment record",
            Class::BuyerIdentity => "the buyer's identity did not pass",
            Class::OverQuota => "over the buyer's yearly quota or the single-order limit",
            Class::Other => "customs stopped it",
        }
    }
}

/// Both tables, checked.
#[derive(Debug, Clone)]
pub struct Tables {
    statuses: Vec<(String, Event)>,
    /// The `*` row's event: every status not listed.
    others: Event,
    reasons: Vec<(String, Class)>,
}

/// One mistake in a table: the file, the line (1-based, of the file), what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub file: PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl Tables {
    /// The two tables of folder `dir` ([`STATUS_FILE`], [`REASONS_FILE`]); every mistake
    /// of both at once.
    pub fn load(dir: &Path) -> Result<Tables, Vec<TableError>> {
        let status = read_status(&dir.join(STATUS_FILE));
        let reasons = read_reasons(&dir.join(REASONS_FILE));
        match (status, reasons) {
            (Ok((statuses, others)), Ok(reasons)) => Ok(Tables {
                statuses,
                others,
                reasons,
            }),
            (a, b) => Err(a
                .err()
                .into_iter()
                .flatten()
                .chain(b.err().into_iter().flatten())
                .collect()),
        }
    }

    /// What `status` means.
    pub fn event(&self, status: &str) -> Event {
        self.statuses
            .iter()
            .find(|(s, _)| s == status)
            .map_or(self.others, |(_, e)| *e)
    }

    /// The class of a failure's reason: the first row whose text it contains.
    pub fn class(&self, reason: &str) -> Class {
        self.reasons
            .iter()
            .find(|(k, _)| reason.contains(k.as_str()))
            .map_or(Class::Other, |(_, c)| *c)
    }
}

/// Checks one table file by its name (`bondmap check`): its mistakes, none when it is
/// right.
pub fn check_file(path: &Path) -> Vec<TableError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name {
        STATUS_FILE => read_status(path).err().unwrap_or_default(),
        REASONS_FILE => read_reasons(path).err().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The rows of a two-column table `key,value` with the header `want`: each good row's
/// line, key and value, and every mistake of the others (a file that cannot be read, or
/// has another header, is one mistake and no rows).
type Rows = (Vec<(u64, String, String)>, Vec<TableError>);

/// The largest customs table read (a few hundred rows are a few KB).
const MAX_TABLE_BYTES: u64 = 1 << 20;

fn rows(path: &Path, want: [&str; 2]) -> Result<Rows, Vec<TableError>> {
    let err = |line: Option<u64>, message: String| TableError {
        file: path.to_path_buf(),
        line,
        message,
    };
    // A regular file of bounded size: a table of a few hundred rows at most.
    // The bundled base's own table (a repo on `[base] bundled`), or a regular file of
    // bounded size: a table of a few hundred rows at most.
    let text = match crate::repo::bundled::lookup(path) {
        Some(t) => t.map(str::to_string),
        None => crate::repo::fs::read_regular_text(path, MAX_TABLE_BYTES),
    }
    .map_err(|e| vec![err(None, format!("cannot read it: {e}"))])?;
    // An editor on Windows starts a file with a byte order mark; it is not the header.
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(vec![err(None, format!("no header row: {e}"))]),
    };
    if header != want {
        return Err(vec![err(
            None,
            format!(
                "the header must be `{}`, not `{}`",
                want.join(","),
                header.join(",")
            ),
        )]);
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for rec in r.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(err(e.position().map(|p| p.line()), e.to_string()));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != 2 {
            problems.push(err(
                Some(line),
                format!(
                    "a row has two cells ({}), not {}",
                    want.join(", "),
                    rec.len()
                ),
            ));
            continue;
        }
        let (k, v) = (rec[0].to_string(), rec[1].to_string());
        if k.is_empty() {
            problems.push(err(Some(line), format!("`{}` is blank", want[0])));
            continue;
        }
        if let Some((first, ..)) = out.iter().find(|(_, x, _)| *x == k) {
            problems.push(err(
                Some(line),
                format!("`{k}` is given twice (first on line {first})"),
            ));
            continue;
        }
        out.push((line, k, v));
    }
    Ok((out, problems))
}

type StatusRows = (Vec<(String, Event)>, Event);

fn read_status(path: &Path) -> Result<StatusRows, Vec<TableError>> {
    let (rows, mut problems) = rows(path, ["status", "event"])?;
    let mut statuses = Vec::new();
    let mut others = Event::Noted;
    for (line, k, v) in rows {
        let Some(e) = Event::ALL.into_iter().find(|e| e.as_str() == v) else {
            problems.push(TableError {
                file: path.to_path_buf(),
                line: Some(line),
                message: format!(
                    "unknown event `{v}` for `{k}` (known: {})",
                    Event::ALL.map(Event::as_str).join(", ")
                ),
            });
            continue;
        };
        if k == "*" {
            others = e;
        } else {
            statuses.push((k, e));
        }
    }
    if problems.is_empty() {
        Ok((statuses, others))
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

fn read_reasons(path: &Path) -> Result<Vec<(String, Class)>, Vec<TableError>> {
    let (rows, mut problems) = rows(path, ["contains", "class"])?;
    let mut out = Vec::new();
    for (line, k, v) in rows {
        match Class::parse(&v) {
            Some(c) => out.push((k, c)),
            None => problems.push(TableError {
                file: path.to_path_buf(),
                line: Some(line),
                message: format!(
                    "unknown class `{v}` for `{k}` (known: {})",
                    Class::ALL.map(Class::as_str).join(", ")
                ),
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(status: &str, reasons: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(STATUS_FILE), status).unwrap();
        std::fs::write(d.path().join(REASONS_FILE), reasons).unwrap();
        d
    }

    #[test]
    fn the_shipped_tables_say_what_the_issue_says() {
        let t =
            Tables::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/cainiao")).unwrap();
        assert_eq!(t.event("CUSTOMS_PASSED"), Event::Passed);
        assert_eq!(t.event("CUSTOMS_FAILED"), Event::Failed);
        assert_eq!(t.event("WMS_PACKAGE"), Event::Noted);
        assert_eq!(t.event("SOMETHING_NEW"), Event::Noted);
        for (reason, class) in [
            ("[Code:13121;Desc:支付单不存在]", Class::PaymentMissing),
            ("订购人身份信息校验未通过", Class::BuyerIdentity),
            ("订购人姓名与身份证号不一致", Class::BuyerIdentity),
            ("超过年度个人额度", Class::OverQuota),
            ("超过单次交易限额", Class::OverQuota),
            ("商品备案信息不符", Class::Other),
        ] {
            assert_eq!(t.class(reason), class, "{reason}");
        }
    }

    #[test]
    fn unknown_events_classes_duplicates_and_a_bad_header_are_named_with_their_line() {
        let d = dir(
            "# statuses\nstatus,event\nA,customs_passed\nB,customs_ok\nA,noted\n,noted\n",
            "contains,class\n支付单,payment_gone\n",
        );
        let e = Tables::load(d.path()).unwrap_err();
        let text: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(has(":5: `A` is given twice (first on line 3)"), "{text:?}");
        assert!(has("unknown class `payment_gone`"), "{text:?}");
        assert!(has(":6: `status` is blank"), "{text:?}");
        assert!(has(":4: unknown event `customs_ok` for `B`"), "{text:?}");
        let d = dir("status,event\nB,customs_ok\n", "contains,class\n");
        let e = Tables::load(d.path()).unwrap_err();
        assert!(e[0].to_string().contains(":2: unknown event `customs_ok` for `B` (known: customs_passed, customs_failed, noted)"), "{e:?}");
        let d = dir("code,event\n", "contains,class\n");
        let e = Tables::load(d.path()).unwrap_err();
        assert!(
            e[0].to_string()
                .contains("the header must be `status,event`, not `code,event`"),
            "{e:?}"
        );
        // `*` sets the others; no row matching is `other`.
        let d = dir(
            "status,event\n*,customs_failed\nOK,customs_passed\n",
            "contains,class\n",
        );
        let t = Tables::load(d.path()).unwrap();
        assert_eq!(t.event("X"), Event::Failed);
        assert_eq!(t.event("OK"), Event::Passed);
        assert_eq!(t.class("支付单"), Class::Other);
    }
}
