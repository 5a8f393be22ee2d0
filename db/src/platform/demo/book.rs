//! The demo's orders, their lines and their history, made from a fixed pseudo-random
//! sequence so the demo is the same every time.

use uuid::Uuid;

use super::{DAYS, ORDERS, PRODUCTS};

pub(super) struct DemoOrder {
    pub(super) id: Uuid,
    pub(super) number: i64,
    pub(super) status: &'static str,
    pub(super) total: i64,
    pub(super) created_by: Uuid,
    pub(super) customer_id: Uuid,
    pub(super) age_secs: f64,
}

pub(super) struct DemoLine {
    pub(super) order_id: Uuid,
    pub(super) line_no: i32,
    pub(super) product_id: Uuid,
    pub(super) quantity: i32,
}

pub(super) struct DemoEvent {
    pub(super) order_id: Uuid,
    pub(super) from: Option<&'static str>,
    pub(super) to: &'static str,
    pub(super) by: Uuid,
    pub(super) age_secs: f64,
}

/// The orders, their lines and their history, made from a fixed pseudo-random sequence.
pub(super) struct OrderBook {
    pub(super) orders: Vec<DemoOrder>,
    pub(super) lines: Vec<DemoLine>,
    pub(super) events: Vec<DemoEvent>,
}

const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * HOUR;

impl OrderBook {
    pub(super) fn write(products: &[Uuid], customers: &[Uuid], people: [Uuid; 2]) -> Self {
        let mut next = Sequence(0x5EED_DE30);
        // Ages first, oldest first, so order numbers rise with time.
        let mut ages: Vec<f64> = (0..ORDERS)
            .map(|_| {
                // Busier lately: a square root leans the spread toward recent days.
                let spread = (next.below(10_000) as f64 / 10_000.0).sqrt();
                (DAYS as f64) * DAY * (1.0 - spread) + next.below(12 * 3600) as f64
            })
            .collect();
        ages.sort_by(|a, b| b.total_cmp(a));
        let mut book = OrderBook {
            orders: Vec::new(),
            lines: Vec::new(),
            events: Vec::new(),
        };
        for (index, age) in ages.into_iter().enumerate() {
            let id = Uuid::new_v4();
            let by = people[index % 2];
            let path = Self::path(age, next.below(10));
            let mut total = 0;
            let first = next.below(products.len() as u64) as usize;
            let count = 1 + next.below(3) as usize;
            for line in 0..count {
                let product = (first + line * 7) % products.len();
                let quantity = 1 + next.below(4) as i32;
                total += PRODUCTS[product].2 * i64::from(quantity);
                book.lines.push(DemoLine {
                    order_id: id,
                    line_no: line as i32 + 1,
                    product_id: products[product],
                    quantity,
                });
            }
            let mut from = None;
            let mut at = age;
            for (step, to) in path.iter().enumerate() {
                if step > 0 {
                    // Each step a few hours to a couple of days after the one before, never
                    // in the future.
                    at = (at - (2.0 + next.below(40) as f64) * HOUR).max(HOUR / 4.0);
                }
                book.events.push(DemoEvent {
                    order_id: id,
                    from,
                    to,
                    by: people[(index + step) % 2],
                    age_secs: at,
                });
                from = Some(*to);
            }
            book.orders.push(DemoOrder {
                id,
                number: index as i64 + 1,
                status: path.last().copied().unwrap_or("PENDING"),
                total,
                created_by: by,
                customer_id: customers[next.below(customers.len() as u64) as usize],
                age_secs: age,
            });
        }
        book
    }

    /// The statuses an order went through, given its age: the older, the further along;
    /// `roll` (0–9) cancels some and holds others back.
    fn path(age: f64, roll: u64) -> &'static [&'static str] {
        const DELIVERED: &[&str] = &["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"];
        const SHIPPED: &[&str] = &["PENDING", "CONFIRMED", "SHIPPED"];
        const CONFIRMED: &[&str] = &["PENDING", "CONFIRMED"];
        const PENDING: &[&str] = &["PENDING"];
        const CANCELLED_EARLY: &[&str] = &["PENDING", "CANCELLED"];
        const CANCELLED_LATE: &[&str] = &["PENDING", "CONFIRMED", "CANCELLED"];
        match (age / DAY, roll) {
            (_, 0) => CANCELLED_EARLY,
            (days, 1) if days > 3.0 => CANCELLED_LATE,
            (days, _) if days > 12.0 => DELIVERED,
            (days, r) if days > 5.0 => {
                if r < 6 {
                    DELIVERED
                } else {
                    SHIPPED
                }
            }
            (days, r) if days > 2.0 => {
                if r < 5 {
                    SHIPPED
                } else {
                    CONFIRMED
                }
            }
            (_, r) if r < 5 => CONFIRMED,
            _ => PENDING,
        }
    }
}

/// A fixed pseudo-random sequence (xorshift64*): the same demo every time, no dependency.
struct Sequence(u64);

impl Sequence {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::CUSTOMERS;
    use super::*;

    #[test]
    fn the_demo_has_every_status_and_a_consistent_history() {
        let products: Vec<Uuid> = PRODUCTS.iter().map(|_| Uuid::new_v4()).collect();
        let customers: Vec<Uuid> = CUSTOMERS.iter().map(|_| Uuid::new_v4()).collect();
        let book = OrderBook::write(&products, &customers, [Uuid::new_v4(), Uuid::new_v4()]);
        assert_eq!(book.orders.len(), ORDERS as usize);
        for status in ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"] {
            let n = book.orders.iter().filter(|o| o.status == status).count();
            assert!(n >= 3, "{status}: {n}");
        }
        for order in &book.orders {
            let events: Vec<_> = book
                .events
                .iter()
                .filter(|e| e.order_id == order.id)
                .collect();
            assert_eq!(
                events.first().map(|e| (e.from, e.to)),
                Some((None, "PENDING"))
            );
            assert_eq!(events.last().map(|e| e.to), Some(order.status));
            assert!(events
                .windows(2)
                .all(|w| w[1].age_secs <= w[0].age_secs && w[1].age_secs > 0.0));
            assert!(order.age_secs <= DAYS as f64 * DAY + DAY);
        }
        // Numbers rise with time.
        assert!(book
            .orders
            .windows(2)
            .all(|w| w[0].age_secs >= w[1].age_secs));
        // Some products are out of stock and some are low, for the dashboard.
        assert!(PRODUCTS.iter().filter(|p| p.3 == 0).count() >= 3);
        assert!(PRODUCTS.iter().filter(|p| (1..=5).contains(&p.3)).count() >= 5);
    }
}
