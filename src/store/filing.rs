//! The customs filings sent to RED (`bondmap filing push`): per barcode and port, the
//! fields RED took last, so that a push sends only the rows that changed since.

use super::{now, Store, StoreError};
use rusqlite::{params, OptionalExtension};

pub(super) const TABLE: &str = "CREATE TABLE IF NOT EXISTS filings (
        barcode TEXT NOT NULL,
        port_code TEXT NOT NULL,
        fields TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (barcode, port_code))";

/// A filing RED took.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Filed {
    pub barcode: String,
    pub port_code: String,
    /// The `order.createItemCustomsInfo` fields sent, as JSON text.
    pub fields: String,
    pub sent_at: String,
}

impl Store {
    /// What RED took last for a barcode at a port (`None`: never sent).
    pub fn filed(&self, barcode: &str, port_code: &str) -> Result<Option<Filed>, StoreError> {
        Ok(self
            .db
            .query_row(
                "SELECT barcode, port_code, fields, sent_at FROM filings WHERE barcode = ?1 AND port_code = ?2",
                params![barcode, port_code],
                |r| {
                    Ok(Filed {
                        barcode: r.get(0)?,
                        port_code: r.get(1)?,
                        fields: r.get(2)?,
                        sent_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records that RED took `fields` for a barcode at a port (once its answer was success).
    pub fn record_filed(
        &mut self,
        barcode: &str,
        port_code: &str,
        fields: &str,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO filings (barcode, port_code, fields, sent_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(barcode, port_code) DO UPDATE SET fields = excluded.fields, sent_at = excluded.sent_at",
            params![barcode, port_code, fields, now()],
        )?;
        Ok(())
    }
}
