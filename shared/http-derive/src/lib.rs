//! `#[derive(RequestBody)]`: a request body (or query string) declared once, as a struct of the
//! domain types it holds. Reading it gives a value that is valid and complete, or every problem
//! of the request at once, each with its path (`items.3.quantity must be a positive integer`):
//! each field is read by its own type (`shop_http::body::FromJson`), a domain type by its own
//! `Deserialize`, so that what a field must be is said once, by the type.
//!
//! - fields are named in camelCase, as the API's JSON is; `#[body(rename = "x")]` names one
//!   otherwise;
//! - an `Option<T>` field may be absent; any other field is required;
//! - `#[body(flatten)]` reads a field's struct from the same object (shared paging fields);
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
    for attribute in input.attrs.iter().filter(|a| a.path().is_ident("body")) {
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("check") {
                check = Some(meta.value()?.parse::<syn::ExprPath>()?);
                Ok(())
            } else {
                Err(meta.error("expected `check = path`"))
            }
        })?;
    }
    let body = quote!(::shop_http::body);
    let mut reads = Vec::new();
    let mut assigns = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().expect("named");
        let ty = &field.ty;
        let mut rename = None;
        let mut flatten = false;
        for attribute in field.attrs.iter().filter(|a| a.path().is_ident("body")) {
            attribute.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    rename = Some(meta.value()?.parse::<LitStr>()?.value());
                    Ok(())
                } else if meta.path.is_ident("flatten") {
                    flatten = true;
                    Ok(())
                } else {
                    Err(meta.error("expected `rename = \"...\"` or `flatten`"))
                }
            })?;
        }
        let json_name = rename.unwrap_or_else(|| camel_case(&ident.to_string()));
        let read = format_ident!("read_{}", ident);
        reads.push(if flatten {
            quote! {
                let #read = <#ty as #body::FromFields>::from_fields(fields, at, problems);
            }
        } else {
            quote! {
                let #read = <#ty as #body::FromJson>::from_json(
                    fields.get(#json_name),
                    &at.field(#json_name),
                    problems,
                );
            }
        });
        assigns.push(quote!(#ident: #read?));
    }
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
        impl #impl_generics #body::FromFields for #name #type_generics #where_clause {
            fn from_fields(
                fields: &#body::Fields<'_>,
                at: &#body::Path,
                problems: &mut #body::Problems,
            ) -> Option<Self> {
                #(#reads)*
                let value = Self { #(#assigns),* };
                #checked
            }
        }

        impl #impl_generics #body::FromJson for #name #type_generics #where_clause {
            fn from_json(
                raw: Option<&#body::RawValue>,
                at: &#body::Path,
                problems: &mut #body::Problems,
            ) -> Option<Self> {
                #body::object(raw, at, problems)
                    .and_then(|fields| <Self as #body::FromFields>::from_fields(&fields, at, problems))
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
