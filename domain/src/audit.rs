/// Every action the console's audit log records: the filter on its page (in the browser) and
/// the repository (which accepts no other) read this one list.
pub const AUDIT_ACTIONS: [&str; 12] = [
    "change_plan",
    "set_feature_override",
    "set_limit_override",
    "suspend",
    "reactivate",
    "schedule_deletion",
    "restore",
    "request_purge",
    "purge",
    "provision",
    "move",
    "move_failed",
];
