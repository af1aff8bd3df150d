//! CSV rows byte for byte as the `csv` crate writes them with its defaults (RFC 4180: `,`
//! between fields, `"` around a field that holds `,`, `"`, `\r` or `\n`, a `"` inside doubled,
//! `\n` after each record), with cells a spreadsheet would run as a formula neutralised
//! ([`crate::escape::csv_cell`]). The fields are rendered straight into one line per record
//! and finished in place: going through the crate cost a state machine step, a copy and
//! bookkeeping per field, more than rendering the field itself. A test holds the bytes equal
//! to the crate's.

use super::Cell;
use crate::escape;

/// Whether [`finish_field`] can change the cell's text. Counts, addresses and booleans are
/// digits, hex, `.`, `:` and letters: never a formula, never quoted (most of a flow row).
pub(super) fn may_change(cell: &Cell<'_>) -> bool {
    !matches!(
        cell,
        Cell::Absent | Cell::Count(_) | Cell::Addr(_) | Cell::Bool(_)
    )
}

/// Finish the field rendered at `line[start..]`: a leading `'` when it reads as a formula,
/// then quotes when it holds a separator, a quote or a line break. `spare` holds the field
/// while it is rewritten (rare: most fields are left as rendered).
pub(super) fn finish_field(line: &mut String, start: usize, spare: &mut String) {
    let Some(field) = line.get(start..) else {
        return;
    };
    let formula = escape::csv_formula(field);
    let quoted = field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !formula && !quoted {
        return;
    }
    spare.clear();
    spare.push_str(field);
    line.truncate(start);
    if quoted {
        line.push('"');
    }
    if formula {
        line.push('\'');
    }
    if quoted {
        for (i, part) in spare.split('"').enumerate() {
            if i > 0 {
                line.push_str("\"\"");
            }
            line.push_str(part);
        }
        line.push('"');
    } else {
        line.push_str(spare);
    }
}

/// End the record that starts at `line[start..]`. A record that wrote nothing (one empty
/// field) is written as `""`, as the crate does, so that it still reads back as a record.
pub(super) fn end_record(line: &mut String, start: usize) {
    if line.len() == start {
        line.push_str("\"\"");
    }
    line.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(records: &[&[&str]]) -> String {
        let (mut line, mut spare) = (String::new(), String::new());
        for record in records {
            let start = line.len();
            for (i, field) in record.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let field_start = line.len();
                line.push_str(field);
                finish_field(&mut line, field_start, &mut spare);
            }
            end_record(&mut line, start);
        }
        line
    }

    fn crates(records: &[&[&str]]) -> String {
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_writer(Vec::new());
        for record in records {
            let fields: Vec<String> = record
                .iter()
                .map(|f| escape::csv_cell(f).into_owned())
                .collect();
            out.write_record(&fields).unwrap();
        }
        String::from_utf8(out.into_inner().unwrap()).unwrap()
    }

    /// The cells [`csv_row`] leaves as rendered are ones that finishing would not change.
    #[test]
    fn cells_skipped_are_never_changed() {
        use crate::time::Timestamp;
        let cells = [
            Cell::Absent,
            Cell::Count(0),
            Cell::Count(u64::MAX),
            Cell::Addr("10.0.0.1".parse().unwrap()),
            Cell::Addr("::1".parse().unwrap()),
            Cell::Addr("::ffff:1.2.3.4".parse().unwrap()),
            Cell::Bool(true),
            Cell::Bool(false),
            Cell::Int(-1),
            Cell::Float(-0.5),
            Cell::Seconds(-2_000),
            Cell::Time(Timestamp(-1_500_000_000)),
            Cell::str("=1"),
            Cell::str("a,b"),
            Cell::str_list(["x", "y"]),
        ];
        let mut changed = 0;
        for cell in &cells {
            let (mut line, mut spare) = (String::new(), String::new());
            super::super::render_plain(&mut line, cell, "");
            let rendered = line.clone();
            finish_field(&mut line, 0, &mut spare);
            if line != rendered {
                changed += 1;
                assert!(may_change(cell), "{cell:?} skipped but becomes {line:?}");
            }
        }
        // The negative numbers, the formula, the comma and the list.
        assert_eq!(changed, 7);
    }

    #[test]
    fn bytes_are_the_csv_crates() {
        let fields = [
            "",
            "a",
            "a,b",
            "\"",
            "a\"b\"",
            "\"\"",
            "\r",
            "\n",
            "a\r\nb",
            "=1+2",
            "-1",
            "-",
            "+x",
            "@SUM(A1)",
            "\t",
            "\tx,y",
            "\r=",
            "'",
            " ",
            "a b",
            ";",
            "\\",
            "x\u{202e}y",
            "caf\u{e9},",
            "1.5",
            "::1",
            "=\"a,b\"",
        ];
        let mut records: Vec<Vec<&str>> = Vec::new();
        for a in fields {
            records.push(vec![a]);
            for b in fields {
                records.push(vec![a, b]);
                records.push(vec![b, "", a]);
            }
        }
        records.push(vec![]);
        records.push(vec!["", ""]);
        let records: Vec<&[&str]> = records.iter().map(Vec::as_slice).collect();
        for record in &records {
            assert_eq!(ours(&[record]), crates(&[record]), "{record:?}");
        }
        assert_eq!(ours(&records), crates(&records));
    }
}
