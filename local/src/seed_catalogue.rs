//! Loads a catalogue file (`[{id, name, price, stock, category}]`) into the store table,
//! through the same repository the functions use. `seed-catalogue local/catalogue.json`
use serde::Deserialize;
use shared::domain::{Product, ProductId};
use shared::money::Money;
use shared::store::Store;

#[derive(Deserialize)]
struct CatalogueEntry {
    id: String,
    name: String,
    /// Decimal text, so that prices are read exactly.
    price: String,
    stock: u32,
    category: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: seed-catalogue <catalogue.json>")?;
    let entries: Vec<CatalogueEntry> = serde_json::from_slice(&std::fs::read(&path)?)?;
    let store = Store::from_env(&shared::config::aws().await)?;
    for entry in &entries {
        let product = Product {
            id: ProductId::parse(&entry.id)
                .ok_or_else(|| format!("{}: id is not a UUID", entry.name))?,
            name: entry.name.clone(),
            price: Money::parse_exact(&entry.price)
                .map_err(|error| format!("{}: price {error}", entry.name))?,
            stock: entry.stock,
            category: entry.category.clone(),
        };
        store.put_product(&product).await?;
    }
    println!("loaded {} products from {path}", entries.len());
    Ok(())
}
