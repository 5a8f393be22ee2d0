use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Where an order is in its life. The allowed moves are [`OrderStatus::can_become`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "Pending",
            OrderStatus::Confirmed => "Confirmed",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::Cancelled => "Cancelled",
        }
    }

    /// PENDING → CONFIRMED → SHIPPED → DELIVERED; CANCELLED from PENDING or CONFIRMED.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed)
                | (Confirmed, Shipped)
                | (Shipped, Delivered)
                | (Pending, Cancelled)
                | (Confirmed, Cancelled)
        )
    }

    /// The moves a person may make from here, in the order buttons show them.
    pub fn next_steps(self) -> Vec<OrderStatus> {
        Self::ALL
            .into_iter()
            .filter(|next| self.can_become(*next))
            .collect()
    }

    /// Whether moving here puts the order's units back on the shelf.
    pub fn returns_stock(self) -> bool {
        self == OrderStatus::Cancelled
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status")]
pub struct OrderStatusParseError;

impl FromStr for OrderStatus {
    type Err = OrderStatusParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(OrderStatusParseError)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn the_workflow_moves_forward_and_cancels_early() {
        assert!(Pending.can_become(Confirmed));
        assert!(Confirmed.can_become(Shipped));
        assert!(Shipped.can_become(Delivered));
        assert!(Pending.can_become(Cancelled));
        assert!(Confirmed.can_become(Cancelled));
        for refused in [
            (Pending, Shipped),
            (Shipped, Cancelled),
            (Delivered, Cancelled),
            (Cancelled, Pending),
            (Delivered, Pending),
            (Confirmed, Pending),
        ] {
            assert!(!refused.0.can_become(refused.1), "{refused:?}");
        }
        assert_eq!(Pending.next_steps(), vec![Confirmed, Cancelled]);
        assert!(Delivered.next_steps().is_empty());
    }

    #[test]
    fn round_trips_through_text() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
        assert!("pending".parse::<OrderStatus>().is_err());
    }
}
