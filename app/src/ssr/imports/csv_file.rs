//! Reading an uploaded product file: UTF-8 CSV with a header line naming its columns, each
//! value parsed by the same domain types as the product form. A problem with the whole file
//! refuses it; a problem with a line marks that line, with the reason.

use std::collections::HashMap;

use db::tenant::imports::ImportLine;
use db::tenant::products::ProductInput;
use domain::{Currency, Description, Money, ProductName, Sku};

use crate::api::imports::{FileProblem, MAX_FILE_ROWS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS};

/// How much of an unreadable line's text the preview shows back.
const SHOWN_CHARS: usize = 64;

/// Every line of `bytes`, parsed, or why the file as a whole cannot be imported.
pub fn read(bytes: &[u8], currency: &Currency) -> Result<Vec<ImportLine>, FileProblem> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileProblem::Utf16);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| FileProblem::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(FileProblem::Empty);
    }
    // The csv crate counts a line at each "\n" but ends a record at the "\r" before it, so
    // with Windows line endings every record would report the line before its own.
    let text = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|_| FileProblem::Unreadable { line: 1 })?
        .clone();
    let columns = Columns::find(&header)?;
    let mut lines = Vec::new();
    let mut first_line_of: HashMap<String, i32> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileProblem::Unreadable {
            line: e.position().map_or(0, |p| p.line()),
        })?;
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if lines.len() >= MAX_FILE_ROWS {
            return Err(FileProblem::TooManyRows);
        }
        let line_no = record
            .position()
            .map_or(lines.len() as u64 + 2, |p| p.line())
            .min(i32::MAX as u64) as i32;
        let line = match columns.product(&record, currency) {
            Ok(input) => match first_line_of.get(input.sku.as_str()) {
                Some(first) => ImportLine::Invalid {
                    line_no,
                    sku: input.sku.as_str().to_owned(),
                    name: input.name.as_str().to_owned(),
                    problem: format!("The SKU {} is also on line {first}.", input.sku.as_str()),
                },
                None => {
                    first_line_of.insert(input.sku.as_str().to_owned(), line_no);
                    ImportLine::Product { line_no, input }
                }
            },
            Err(problems) => ImportLine::Invalid {
                line_no,
                sku: shown(columns.get(&record, columns.sku)),
                name: shown(columns.get(&record, columns.name)),
                problem: problems.join(" "),
            },
        };
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(FileProblem::NoRows);
    }
    Ok(lines)
}

/// Where each known column is in the file.
struct Columns {
    sku: usize,
    name: usize,
    price: usize,
    stock: usize,
    description: Option<usize>,
    currency: Option<usize>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Result<Self, FileProblem> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if names.len() == 1 && names[0].contains(';') {
            return Err(FileProblem::Semicolons);
        }
        let mut at = HashMap::new();
        for (index, name) in names.iter().enumerate() {
            let known = REQUIRED_COLUMNS.contains(&name.as_str())
                || OPTIONAL_COLUMNS.contains(&name.as_str());
            if known && at.insert(name.as_str(), index).is_some() {
                return Err(FileProblem::DuplicateColumn(name.clone()));
            }
        }
        let missing: Vec<String> = REQUIRED_COLUMNS
            .iter()
            .filter(|c| !at.contains_key(**c))
            .map(|c| (*c).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(FileProblem::MissingColumns(missing));
        }
        Ok(Columns {
            sku: at["sku"],
            name: at["name"],
            price: at["price"],
            stock: at["stock"],
            description: at.get("description").copied(),
            currency: at.get("currency").copied(),
        })
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: usize) -> &'r str {
        undo_formula_guard(record.get(column).unwrap_or_default())
    }

    /// The line as a product, or every problem it has, each naming its column.
    fn product(
        &self,
        record: &csv::StringRecord,
        currency: &Currency,
    ) -> Result<ProductInput, Vec<String>> {
        let mut problems = Vec::new();
        let sku = checked(&mut problems, "SKU", Sku::parse(self.get(record, self.sku)));
        let name = checked(
            &mut problems,
            "Name",
            ProductName::parse(self.get(record, self.name)),
        );
        let price = checked(
            &mut problems,
            "Price",
            Money::parse(self.get(record, self.price), currency),
        );
        let stock = checked(
            &mut problems,
            "Stock",
            domain::parse_stock(self.get(record, self.stock)),
        );
        let description = checked(
            &mut problems,
            "Description",
            Description::parse(self.description.map_or("", |c| self.get(record, c))),
        );
        if let Some(column) = self.currency {
            let stated = self.get(record, column).trim();
            if !stated.is_empty() && !stated.eq_ignore_ascii_case(currency.as_str()) {
                problems.push(format!(
                    "Currency: prices in this workspace are in {}, not {}.",
                    currency.as_str(),
                    shown(stated)
                ));
            }
        }
        match (sku, name, price, stock, description) {
            (Some(sku), Some(name), Some(price), Some(stock), Some(description))
                if problems.is_empty() =>
            {
                Ok(ProductInput {
                    sku,
                    name,
                    description,
                    price,
                    stock,
                })
            }
            _ => Err(problems),
        }
    }
}

/// The parsed value, or its problem recorded under the column's name.
fn checked<T, E: std::fmt::Display>(
    problems: &mut Vec<String>,
    column: &str,
    parsed: Result<T, E>,
) -> Option<T> {
    parsed
        .map_err(|e| problems.push(format!("{column}: {e}")))
        .ok()
}

/// Stockroom's exports put an apostrophe before a cell that a spreadsheet would run as a
/// formula; reading such a file back takes it off again.
fn undo_formula_guard(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => value,
    }
}

/// A value from a line with a problem, as the preview shows it: without control characters,
/// cut short.
fn shown(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .take(SHOWN_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn problems(lines: &[ImportLine]) -> Vec<(i32, String)> {
        lines
            .iter()
            .filter_map(|l| match l {
                ImportLine::Invalid {
                    line_no, problem, ..
                } => Some((*line_no, problem.clone())),
                ImportLine::Product { .. } => None,
            })
            .collect()
    }

    #[test]
    fn reads_a_good_file_in_any_column_order() {
        let file = "\u{feff}Name,SKU,Stock,Price,Description\r\n\"Mug, blue\",mug-1,10,12.50,\"Stoneware\nglazed\"\r\nTee,TEE-1,0,20,\r\n\r\n";
        let lines = read(file.as_bytes(), &usd()).unwrap();
        assert_eq!(lines.len(), 2);
        match &lines[0] {
            ImportLine::Product { line_no, input } => {
                assert_eq!(*line_no, 2);
                assert_eq!(input.sku.as_str(), "MUG-1");
                assert_eq!(input.name.as_str(), "Mug, blue");
                assert_eq!(input.price, Money::from_minor(1250));
                assert_eq!(input.stock, 10);
                assert_eq!(input.description.as_str(), "Stoneware\nglazed");
            }
            other => panic!("{other:?}"),
        }
        // The quoted line break makes the next record start on line 4.
        assert!(matches!(lines[1], ImportLine::Product { line_no: 4, .. }));
    }

    #[test]
    fn refuses_whole_files_that_are_not_a_product_list() {
        let refused = |bytes: &[u8]| read(bytes, &usd()).unwrap_err();
        assert_eq!(
            refused(b"sku,name,price,stock\n\xff\xfe,x,1,1"),
            FileProblem::NotUtf8
        );
        assert_eq!(refused(b"\xff\xfes\x00k\x00u\x00"), FileProblem::Utf16);
        assert_eq!(refused(b"  \n "), FileProblem::Empty);
        assert_eq!(
            refused(b"sku;name;price;stock\nA;B;1;1"),
            FileProblem::Semicolons
        );
        assert_eq!(
            refused(b"sku,name,cost\nA,B,1"),
            FileProblem::MissingColumns(vec!["price".into(), "stock".into()])
        );
        assert_eq!(
            refused(b"sku,name,price,stock,SKU\n"),
            FileProblem::DuplicateColumn("sku".into())
        );
        assert_eq!(refused(b"sku,name,price,stock\n\n"), FileProblem::NoRows);
        let garbage: Vec<u8> = (0..50_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        assert!(matches!(
            refused(&garbage),
            FileProblem::NotUtf8 | FileProblem::Utf16
        ));
        let mut many = String::from("sku,name,price,stock\n");
        for n in 0..=MAX_FILE_ROWS {
            many.push_str(&format!("S{n},N,1,1\n"));
        }
        assert_eq!(refused(many.as_bytes()), FileProblem::TooManyRows);
    }

    #[test]
    fn marks_each_bad_line_with_its_reasons() {
        let file = "sku,name,price,stock,currency\n\
                    A-1,Good,1.00,1,usd\n\
                    A-2,Comma,\"12,50\",3,\n\
                    A-3,Negative,1,-4,\n\
                    A-1,Again,2,2,\n\
                    bad sku,,x,1.5,\n\
                    A-5,Euro,3,3,EUR\n\
                    A-6,Ctrl\u{7}name,1,1,\n";
        let lines = read(file.as_bytes(), &usd()).unwrap();
        assert_eq!(lines.len(), 7);
        let found = problems(&lines);
        assert_eq!(found.len(), 6, "{found:?}");
        let reason = |line: i32| {
            found
                .iter()
                .find(|(l, _)| *l == line)
                .map(|(_, p)| p.clone())
                .unwrap()
        };
        assert!(reason(3).contains("decimal point"), "{}", reason(3));
        assert!(reason(4).contains("Stock: This cannot be negative."));
        assert_eq!(reason(5), "The SKU A-1 is also on line 2.");
        let several = reason(6);
        assert!(
            several.contains("SKU:")
                && several.contains("Name:")
                && several.contains("Price:")
                && several.contains("Stock:"),
            "{several}"
        );
        assert!(reason(7).contains("not EUR"));
        assert!(reason(8).contains("Name:"));
        match lines
            .iter()
            .find(|l| matches!(l, ImportLine::Invalid { line_no: 8, .. }))
        {
            Some(ImportLine::Invalid { name, .. }) => assert_eq!(name, "Ctrlname"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_back_what_an_export_defused() {
        let file = "sku,name,price,stock\n'-X1,'=SUM(A1),1,1\n";
        let lines = read(file.as_bytes(), &usd()).unwrap();
        match &lines[0] {
            ImportLine::Product { input, .. } => {
                assert_eq!(input.sku.as_str(), "-X1");
                assert_eq!(input.name.as_str(), "=SUM(A1)");
            }
            other => panic!("{other:?}"),
        }
    }
}
