//! The documents vaxloop exchanges with people: spreadsheets read from unit contacts (XLSX, and
//! CSV in UTF-8 with or without BOM or in GB18030/GBK, which Excel in China writes) and
//! spreadsheets written for them (XLSX and CSV with every cell made safe to open).
//!
//! Reading streams rows to a [`RowSink`] instead of building a table, so an import holds no copy
//! of the file beyond the parser's own; [`Limits`] bound the file size, the row count and, for
//! XLSX, how far the archive may inflate (a zip bomb is refused before it is opened).
//!
//! Charts are SVG drawn by plotters; printed documents use the CJK font in `fonts/`
//! (WenQuanYi Micro Hei, Apache-2.0), compiled in so a fresh machine needs no font package.

pub mod chart;
pub mod fonts;
pub mod pdf;
pub mod poster;
pub mod read;
pub mod team_forms;
pub mod write;

pub use read::{Limits, ReadError, RowSink, read_rows};
pub use write::{Sheet, neutralise, write_csv, write_xlsx};
