//! The cross-tenant sweeps of `tenancy`, run again with the workspaces' data in databases of
//! their own: one dedicated and the other shared, either way round, and both dedicated.
//! Nothing of one workspace reaches the other's session, whichever database serves it.

use crate::support::Layout;
use crate::tenancy::{
    every_server_function_refuses_another_workspaces_session_in,
    foreign_product_and_order_ids_are_not_found_and_untouched_in,
    lists_and_dashboard_show_only_the_callers_workspace_in,
};

const PLACED: [Layout; 3] = [
    Layout::BravoDedicated,
    Layout::AlphaDedicated,
    Layout::BothDedicated,
];

#[tokio::test]
async fn every_server_function_refuses_another_workspaces_session_on_every_placement() {
    for layout in PLACED {
        every_server_function_refuses_another_workspaces_session_in(layout).await;
    }
}

#[tokio::test]
async fn foreign_ids_are_not_found_and_untouched_on_every_placement() {
    for layout in PLACED {
        foreign_product_and_order_ids_are_not_found_and_untouched_in(layout).await;
    }
}

#[tokio::test]
async fn lists_and_dashboard_show_only_the_callers_workspace_on_every_placement() {
    for layout in PLACED {
        lists_and_dashboard_show_only_the_callers_workspace_in(layout).await;
    }
}
