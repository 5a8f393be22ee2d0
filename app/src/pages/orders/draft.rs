//! The new-order form's state as its address carries it. Without JavaScript, every search,
//! choice and removal on the form is a GET of the whole form to `/orders/new`; the page reads
//! the draft back from the query (applying the button that was pressed) and renders it again.
//! With JavaScript the same address is read once, when the page opens.

use leptos_router::params::ParamsMap;

/// The customer fields of a new customer, in form order.
pub const NEW_CUSTOMER_FIELDS: [&str; 4] = [
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_address",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// The chosen customer's id, or empty.
    pub customer_id: String,
    pub customer_search: String,
    /// What was typed for a new customer, in [`NEW_CUSTOMER_FIELDS`] order.
    pub new_customer: [String; 4],
    /// (product id, quantity as typed), in form order, no product twice.
    pub lines: Vec<(String, String)>,
    pub product_search: String,
    /// Where the product matches continue (a "more" page).
    pub product_after: Option<String>,
}

/// Products one draft may hold (the order's own limit).
const MAX_DRAFT_LINES: usize = 100;

impl Draft {
    pub fn from_query(query: &ParamsMap) -> Self {
        let text = |key: &str| query.get(key).unwrap_or_default();
        let mut indexed: Vec<(usize, String, String)> = Vec::new();
        for (key, value) in query {
            let Some((index, part)) = line_key(key) else {
                continue;
            };
            let at = match indexed.iter().position(|(i, _, _)| *i == index) {
                Some(at) => at,
                None => {
                    indexed.push((index, String::new(), String::new()));
                    indexed.len() - 1
                }
            };
            match part {
                LinePart::Product => indexed[at].1 = value.to_owned(),
                LinePart::Quantity => indexed[at].2 = value.to_owned(),
            }
        }
        indexed.sort_by_key(|(index, _, _)| *index);
        let removed = query.get("remove").and_then(|r| r.parse::<usize>().ok());
        let mut draft = Draft {
            customer_id: text("customer_id"),
            customer_search: text("customer_q"),
            new_customer: NEW_CUSTOMER_FIELDS.map(text),
            lines: Vec::new(),
            product_search: text("product_q"),
            product_after: query.get("product_after").filter(|a| !a.is_empty()),
        };
        for (position, (_, product, quantity)) in indexed.into_iter().enumerate() {
            if Some(position) != removed && !product.trim().is_empty() {
                draft.add(product.trim(), quantity);
            }
        }
        if let Some(picked) = query.get("customer_pick").filter(|p| !p.is_empty()) {
            draft.customer_id = picked;
            draft.customer_search.clear();
        }
        if query.get("change_customer").is_some() {
            draft.customer_id.clear();
        }
        if let Some(added) = query.get("add").filter(|a| !a.trim().is_empty()) {
            draft.add(added.trim(), "1".into());
        }
        draft
    }

    /// Adds a product, or one more of it when it is already on the draft.
    fn add(&mut self, product: &str, quantity: String) {
        let room = self.lines.len() < MAX_DRAFT_LINES;
        match self.lines.iter_mut().find(|(id, _)| id == product) {
            Some((_, existing)) => {
                if let Ok(n) = existing.trim().parse::<u32>() {
                    *existing = n.saturating_add(1).to_string();
                }
            }
            None if room => self.lines.push((product.to_owned(), quantity)),
            None => {}
        }
    }

    pub fn product_ids(&self) -> Vec<String> {
        self.lines.iter().map(|(id, _)| id.clone()).collect()
    }
}

enum LinePart {
    Product,
    Quantity,
}

/// `lines[3][product_id]` → (3, Product).
fn line_key(key: &str) -> Option<(usize, LinePart)> {
    let rest = key.strip_prefix("lines[")?;
    let (index, part) = rest.split_once("][")?;
    let part = match part {
        "product_id]" => LinePart::Product,
        "quantity]" => LinePart::Quantity,
        _ => return None,
    };
    Some((index.parse().ok()?, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn reads_the_lines_in_form_order_and_applies_the_pressed_button() {
        let draft = Draft::from_query(&query(&[
            ("lines[1][product_id]", "b"),
            ("lines[1][quantity]", "2"),
            ("lines[0][product_id]", "a"),
            ("lines[0][quantity]", "5"),
            ("lines[2][product_id]", "c"),
            ("lines[2][quantity]", "1"),
            ("remove", "1"),
            ("add", "a"),
            ("product_q", "mug"),
        ]));
        assert_eq!(
            draft.lines,
            vec![("a".into(), "6".into()), ("c".into(), "1".into())]
        );
        assert_eq!(draft.product_search, "mug");
    }

    #[test]
    fn picking_a_customer_replaces_the_search_and_changing_forgets_it() {
        let picked = Draft::from_query(&query(&[("customer_q", "harb"), ("customer_pick", "c1")]));
        assert_eq!(picked.customer_id, "c1");
        assert_eq!(picked.customer_search, "");
        let changed = Draft::from_query(&query(&[("customer_id", "c1"), ("change_customer", "1")]));
        assert_eq!(changed.customer_id, "");
        let added = Draft::from_query(&query(&[("add", "p"), ("customer_name", "New Co")]));
        assert_eq!(added.lines, vec![("p".into(), "1".into())]);
        assert_eq!(added.new_customer[0], "New Co");
    }
}
