//! The human-facing aligned table, written block by block so that its memory is bounded by a
//! block, not by the run (the table is the CLI's default format, and captures reach millions of
//! connections).
//!
//! A block holds up to [`BLOCK_ROWS`] rendered rows (the header rides along in the first). When
//! it is full, each column's width is widened to the block's widest cell and the block is
//! printed. Widths carry over and never shrink: columns line up within a block, and a later
//! block only ever pushes a column further right. A table that fits in one block is laid out
//! exactly as if every row had been measured first.
//!
//! Cells are kept as one string per block with each cell's end and display width, measured
//! once when the cell is rendered: no allocation per cell.

use super::{render_plain, Cell};
use crate::escape;
use std::io::{self, Write};

/// Rows per block. A flow row takes ~140 bytes of text plus 16 bytes of bookkeeping per cell,
/// so a block holds ~1.5 MB (and its printed form about as much) whatever the capture's size,
/// and stays in cache between rendering and printing. Widths settle over a few thousand rows;
/// after that a later block rarely widens a column, and every block is far longer than a
/// screen, so a reader paging through sees a jump in alignment at most every few thousand
/// lines.
pub(super) const BLOCK_ROWS: usize = 4096;

/// Between two columns.
const GAP: &str = "  ";

/// Padding is copied from here, a slice at a time.
const SPACES: &str = "                                                                ";

/// Where a rendered cell ends in [`Table::text`] and how wide it shows.
#[derive(Clone, Copy, Debug)]
struct CellSpan {
    end: usize,
    /// Characters (after escaping), as the widths are counted.
    width: usize,
}

/// A table being written: the current block and the widths so far.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// Per column: numbers are aligned to the right, everything else to the left.
    right_aligned: Vec<bool>,
    /// Widest cell seen per column, over every block printed and the current one once it is
    /// printed; never shrinks.
    widths: Vec<usize>,
    /// Terminal-escaped text of the block's cells, back to back.
    text: String,
    /// The block's cells, row after row, as many per row as there are columns.
    cells: Vec<CellSpan>,
    /// Records in the block (the header is not one).
    records: usize,
    /// One rendered cell while it is escaped (rare: only cells with control characters).
    scratch: String,
    /// The block's printed lines, written with one call.
    out: String,
}

impl Table {
    /// A table whose columns are aligned as `right_aligned` says (one entry per column).
    pub(super) fn new(right_aligned: Vec<bool>) -> Self {
        Table {
            widths: vec![0; right_aligned.len()],
            right_aligned,
            ..Table::default()
        }
    }

    /// The header row: column names, escaped like any cell. Called once, before any record.
    pub(super) fn header<'n>(&mut self, names: impl IntoIterator<Item = &'n str>) {
        for name in names {
            escape::push_terminal(&mut self.text, name);
            self.end_cell();
        }
    }

    /// One cell of the current record, in column order.
    pub(super) fn cell(&mut self, cell: &Cell<'_>) {
        let start = self.text.len();
        render_plain(&mut self.text, cell, "-");
        let rendered = self.text.get(start..).unwrap_or_default();
        if escape::needs_terminal(rendered) {
            self.scratch.clear();
            self.scratch.push_str(rendered);
            self.text.truncate(start);
            escape::push_terminal(&mut self.text, &self.scratch);
        }
        self.end_cell();
    }

    /// The current record is complete. `true` when the block is full and should be printed.
    pub(super) fn end_record(&mut self) -> bool {
        self.records += 1;
        self.records >= BLOCK_ROWS
    }

    /// Records held, not yet printed.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.records
    }

    fn end_cell(&mut self) {
        let start = self.cells.last().map_or(0, |c| c.end);
        let width = self.text.get(start..).map_or(0, |s| s.chars().count());
        self.cells.push(CellSpan {
            end: self.text.len(),
            width,
        });
    }

    /// Print the block (header included if not yet printed) with the widths widened to fit it,
    /// then empty it. Nothing is printed for an empty block.
    pub(super) fn print_block(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.widths.len();
        if columns == 0 || self.cells.is_empty() {
            return Ok(());
        }
        for row in self.cells.chunks(columns) {
            for (width, cell) in self.widths.iter_mut().zip(row) {
                *width = (*width).max(cell.width);
            }
        }
        let mut line = std::mem::take(&mut self.out);
        line.clear();
        let mut start = 0;
        for row in self.cells.chunks(columns) {
            let line_start = line.len();
            for (i, cell) in row.iter().enumerate() {
                let text = self.text.get(start..cell.end).unwrap_or_default();
                start = cell.end;
                let pad = self
                    .widths
                    .get(i)
                    .map_or(0, |w| w.saturating_sub(cell.width));
                if i > 0 {
                    line.push_str(GAP);
                }
                if self.right_aligned.get(i).copied().unwrap_or(false) {
                    push_spaces(&mut line, pad);
                    line.push_str(text);
                } else {
                    line.push_str(text);
                    // The last column is not padded.
                    if i + 1 < row.len() {
                        push_spaces(&mut line, pad);
                    }
                }
            }
            // No trailing blanks (padding, or blank last cells), as one trim of the whole
            // line; cells may themselves end in white space, which goes too.
            let kept = line.get(line_start..).map_or(0, |l| l.trim_end().len());
            line.truncate(line_start + kept);
            line.push('\n');
        }
        let result = out.write_all(line.as_bytes());
        self.out = line;
        self.text.clear();
        self.cells.clear();
        self.records = 0;
        result
    }
}

fn push_spaces(out: &mut String, mut count: usize) {
    while count > 0 {
        let n = count.min(SPACES.len());
        out.push_str(SPACES.get(..n).unwrap_or_default());
        count -= n;
    }
}
