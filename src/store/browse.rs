//! What the operator's console reads that the rest of bondmap does not ask: a page of
//! orders by stage and id, an order's notices, and how many orders reached a stage in
//! each hour (from the history). Nothing here writes.

use super::history::Kind;
use super::read::{notice_row, SELECT_NOTICES};
use super::stage::Stage;
use super::{NoticeRow, OrderRow, Store, StoreError};
use rusqlite::params;

/// The history read by time: the figures of the last hours without a scan of it all.
pub(super) const INDEX: &str = "CREATE INDEX IF NOT EXISTS history_at ON history(at)";

/// Which orders a page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this stage (`None`: every stage).
    pub stage: Option<Stage>,
    /// Only ids containing this text (`None` or empty: every id).
    pub id_contains: Option<String>,
}

impl Store {
    /// The orders `filter` takes, the most recently changed first, `limit` of them from
    /// `offset`; and how many it takes in all.
    pub fn browse(
        &self,
        filter: &Filter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<OrderRow>, u64), StoreError> {
        let stage = filter.stage.map(Stage::as_str);
        let id = filter.id_contains.as_deref().filter(|q| !q.is_empty());
        let cond = "WHERE (?1 IS NULL OR stage = ?1) AND (?2 IS NULL OR instr(order_id, ?2) > 0)";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = self.select(
            &format!("{cond} ORDER BY updated_at DESC, order_id LIMIT ?3 OFFSET ?4"),
            params![stage, id, limit, offset],
        )?;
        let total: u64 = self.db.query_row(
            &format!("SELECT COUNT(*) FROM orders {cond}"),
            params![stage, id],
            |r| r.get(0),
        )?;
        Ok((rows, total))
    }

    /// Every notice recorded for an order, oldest first.
    pub fn notices_for(&self, order_id: &str) -> Result<Vec<NoticeRow>, StoreError> {
        let mut st = self.db.prepare(&format!(
            "{SELECT_NOTICES} WHERE order_id = ?1 ORDER BY received_at, key"
        ))?;
        let rows = st
            .query_map(params![order_id], notice_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// How many moves to `to` the history holds in each hour (UTC, `YYYY-MM-DDTHH`)
    /// from `since` (RFC 3339, UTC) on, the hours without one left out.
    pub fn moves_per_hour(&self, to: Stage, since: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let mut st = self.db.prepare_cached(
            "SELECT substr(at, 1, 13) AS hour, COUNT(*) FROM history \
             WHERE at >= ?1 AND kind = ?2 AND to_stage = ?3 GROUP BY hour ORDER BY hour",
        )?;
        let rows = st
            .query_map(params![since, Kind::Stage.as_str(), to.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_by_stage_and_id_and_the_moves_of_each_hour() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        for id in ["A1", "A2", "B1"] {
            s.record_seen(id, 1).unwrap();
            s.mark_sending(id).unwrap();
            s.mark_accepted(id, Some("LBX")).unwrap();
        }
        s.record_seen("C1", 1).unwrap();
        s.mark_rejected("C1", "no barcode", None).unwrap();
        let ids = |f: &Filter, limit, offset| {
            let (rows, total) = s.browse(f, limit, offset).unwrap();
            let mut v: Vec<String> = rows.into_iter().map(|r| r.order_id).collect();
            v.sort();
            (v, total)
        };
        let accepted = Filter {
            stage: Some(Stage::Accepted),
            id_contains: None,
        };
        assert_eq!(
            ids(&accepted, 10, 0),
            (vec!["A1".into(), "A2".into(), "B1".into()], 3)
        );
        assert_eq!(ids(&accepted, 2, 0).0.len(), 2);
        assert_eq!(ids(&accepted, 2, 2).0.len(), 1);
        let a = Filter {
            stage: None,
            id_contains: Some("A".into()),
        };
        assert_eq!(ids(&a, 10, 0), (vec!["A1".into(), "A2".into()], 2));
        // A `%` or `_` is a character to find, not a pattern.
        let pct = Filter {
            stage: None,
            id_contains: Some("%".into()),
        };
        assert_eq!(ids(&pct, 10, 0).1, 0);
        assert_eq!(ids(&Filter::default(), 10, 0).1, 4);
        let hours = s.moves_per_hour(Stage::Accepted, "2000-01-01").unwrap();
        assert_eq!(hours.iter().map(|h| h.1).sum::<u64>(), 3);
        assert_eq!(hours[0].0.len(), 13, "{hours:?}");
        assert!(s
            .moves_per_hour(Stage::Accepted, "2999-01-01")
            .unwrap()
            .is_empty());
        s.transaction(|t| t.record_notice("k", "CONSIGN_ORDER_NOTIFY", Some("A1"), "{}", None))
            .unwrap();
        assert_eq!(s.notices_for("A1").unwrap().len(), 1);
        assert!(s.notices_for("A2").unwrap().is_empty());
    }
}
