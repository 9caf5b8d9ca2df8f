//! `#[derive(RequestBody)]`: what a request carries (a body, a query string), declared once as
//! a struct of the domain types it holds. Reading it gives a value that is valid and complete, or
//! every problem of the request at once, each with its path (`items.3.quantity must be a
//! positive integer`): each field is read by its own type (`shop_domain::read::FromJson`), a
//! domain type by its own `Deserialize`, so that what a field must be is said once, by the type.
//!
//! - fields are named in camelCase, as the API's JSON is; `#[body(rename = "x")]` names one
//!   otherwise;
//! - an `Option<T>` field may be absent, and so may a `#[body(default)]` one (then it is its
//!   type's default); any other field is required;
//! - `#[body(flatten)]` reads a field's struct from the same object (shared paging fields);
//! - `#[body(at_least_one)]` on a struct of `Option` fields (a change: only what is given
//!   changes) refuses one that gives none of them;
//! - `#[body(check = path)]` on the struct names a `fn(&Self) -> Result<(), Vec<String>>` for
//!   rules that join fields, run once every field is valid.

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

#[proc_macro_derive(RequestBody, attributes(body))]
pub fn derive_request_body(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(name, "RequestBody is for structs"));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "RequestBody needs named fields",
        ));
    };
    let mut check = None;
    let mut at_least_one = false;
    for attribute in input.attrs.iter().filter(|a| a.path().is_ident("body")) {
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("check") {
                check = Some(meta.value()?.parse::<syn::ExprPath>()?);
            } else if meta.path.is_ident("at_least_one") {
                at_least_one = true;
            } else {
                return Err(meta.error("expected `check = path` or `at_least_one`"));
            }
            Ok(())
        })?;
    }
    let read = quote!(::shop_domain::read);
    let mut reads = Vec::new();
    let mut assigns = Vec::new();
    let mut given = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().expect("named");
        let ty = &field.ty;
        let (mut rename, mut flatten, mut default) = (None, false, false);
        for attribute in field.attrs.iter().filter(|a| a.path().is_ident("body")) {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    rename = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if meta.path.is_ident("flatten") {
                    flatten = true;
                } else if meta.path.is_ident("default") {
                    default = true;
                } else {
                    return Err(meta.error("expected `rename = \"...\"`, `flatten` or `default`"));
                }
                Ok(())
            })?;
        }
        let json_name = rename.unwrap_or_else(|| camel_case(&ident.to_string()));
        let value = format_ident!("read_{}", ident);
        reads.push(match (flatten, default) {
            (true, _) => quote! {
                let #value = <#ty as #read::FromFields>::from_fields(fields, at, problems);
            },
            (false, false) => quote! {
                let #value = <#ty as #read::FromJson>::from_json(
                    fields.get(#json_name), &at.field(#json_name), problems,
                );
            },
            (false, true) => quote! {
                let #value = <Option<#ty> as #read::FromJson>::from_json(
                    fields.get(#json_name), &at.field(#json_name), problems,
                ).map(Option::unwrap_or_default);
            },
        });
        assigns.push(quote!(#ident: #value?));
        given.push((ident, json_name));
    }
    let at_least_one = match (at_least_one, given.split_last()) {
        (false, _) => None,
        (true, Some(((_, last), rest))) if !rest.is_empty() => {
            let names: Vec<&str> = rest.iter().map(|(_, name)| name.as_str()).collect();
            let problem = format!(
                "at least one of {} or {last} must be given",
                names.join(", ")
            );
            let idents = given.iter().map(|(ident, _)| ident);
            Some(quote! {
                if #(value.#idents.is_none())&&* {
                    problems.add(at, #problem);
                    return None;
                }
            })
        }
        (true, _) => {
            return Err(syn::Error::new_spanned(
                name,
                "at_least_one needs two fields or more",
            ));
        }
    };
    let checked = match check {
        Some(check) => quote! {
            match #check(&value) {
                Ok(()) => Some(value),
                Err(found) => {
                    for problem in found {
                        problems.add(at, problem);
                    }
                    None
                }
            }
        },
        None => quote!(Some(value)),
    };
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #read::FromFields for #name #type_generics #where_clause {
            fn from_fields(
                fields: &#read::Fields<'_>,
                at: &#read::Path,
                problems: &mut #read::Problems,
            ) -> Option<Self> {
                #(#reads)*
                let value = Self { #(#assigns),* };
                #at_least_one
                #checked
            }
        }

        impl #impl_generics #read::FromJson for #name #type_generics #where_clause {
            fn from_json(
                raw: Option<&#read::RawValue>,
                at: &#read::Path,
                problems: &mut #read::Problems,
            ) -> Option<Self> {
                #read::object(raw, at, problems)
                    .and_then(|fields| <Self as #read::FromFields>::from_fields(&fields, at, problems))
            }
        }
    })
}

/// `tracking_reference` as the API's JSON names it: `trackingReference`.
fn camel_case(name: &str) -> String {
    let mut camel = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                camel.extend(c.to_uppercase());
                upper = false;
            }
            c => camel.push(c),
        }
    }
    camel
}
