//! Customers: listed by name and searched, added and edited by any member (the people who
//! take orders meet new customers), each with their orders.

use domain::CustomerId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    pub id: CustomerId,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// Lines separated by `\n`; empty when none was given.
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerListPage {
    pub customers: Vec<CustomerView>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) fn view_of(customer: &db::tenant::customers::Customer) -> CustomerView {
    CustomerView {
        id: customer.id,
        name: customer.name.clone(),
        email: customer.email.clone(),
        phone: customer.phone.clone().unwrap_or_default(),
        address: customer.address.clone().unwrap_or_default(),
    }
}

/// A customer id from a form or a link; one that does not parse names nothing.
#[cfg(feature = "ssr")]
pub(crate) fn customer_id(raw: &str) -> Result<CustomerId, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(CustomerId::from_uuid)
        .map_err(|_| AppError::NotFound)
}

/// A customer's details as a form sends them (fields `customer_name`, `customer_email`,
/// `customer_phone`, `customer_address`), parsed, with every field's problem reported.
#[cfg(feature = "ssr")]
pub(crate) fn parse_customer(
    errors: &mut crate::FieldErrors,
    name: &str,
    email: &str,
    phone: &str,
    address: &str,
) -> Option<db::tenant::customers::CustomerInput> {
    let name = errors.check("customer_name", domain::CustomerName::parse(name));
    let email = errors.check("customer_email", domain::Email::parse(email));
    let phone = errors.check("customer_phone", domain::Phone::parse(phone));
    let address = errors.check("customer_address", domain::Address::parse(address));
    Some(db::tenant::customers::CustomerInput {
        name: name?,
        email: email?,
        phone: phone?,
        address: address?,
    })
}

/// Customers whose name or email contains `search`, by name, a page at a time.
#[server(output = crate::codec::TextJson)]
pub async fn list_customers(
    search: Option<String>,
    after: Option<String>,
) -> Result<CustomerListPage, AppError> {
    use super::common::PAGE_SIZE;

    let call = crate::ssr::MemberCall::open()?;
    let search = super::common::search("search", search.as_deref())?;
    let after = after
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(customer_id)
        .transpose()?;
    let page = call
        .run(db::tenant::customers::list(
            call.db(),
            call.scope(),
            search.as_ref(),
            after,
            PAGE_SIZE,
        ))
        .await?;
    Ok(CustomerListPage {
        next: page
            .has_more
            .then(|| page.customers.last().map(|c| c.id.to_string()))
            .flatten(),
        customers: page.customers.iter().map(view_of).collect(),
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn load_customer(id: String) -> Result<CustomerView, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let customer = call
        .run(db::tenant::customers::get(
            call.db(),
            call.scope(),
            customer_id(&id)?,
        ))
        .await?;
    Ok(view_of(&customer))
}

/// Adds (no `id`) or edits a customer; every field's problem is reported at once and nothing
/// is written unless all are fine.
/// The fields are named as on the order form, so an email already in use is reported on
/// `customer_email` in both.
#[server(output = crate::codec::TextJson)]
pub async fn save_customer(
    id: Option<String>,
    customer_name: String,
    customer_email: String,
    #[server(default)] customer_phone: String,
    #[server(default)] customer_address: String,
) -> Result<(), AppError> {
    use crate::FieldErrors;
    use db::tenant::customers;

    let call = crate::ssr::MemberCall::open()?;
    let mut errors = FieldErrors::default();
    let input = parse_customer(
        &mut errors,
        &customer_name,
        &customer_email,
        &customer_phone,
        &customer_address,
    );
    let input = errors.into_values((input,))?.0;
    let saved = match id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = customer_id(raw)?;
            call.run(customers::update(call.db(), call.scope(), id, &input))
                .await?;
            id
        }
        None => {
            call.run(customers::create(call.db(), call.scope(), &input))
                .await?
        }
    };
    leptos_axum::redirect(&format!("/customers/{saved}?saved=1"));
    Ok(())
}
