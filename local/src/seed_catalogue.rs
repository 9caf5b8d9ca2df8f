//! Loads a catalogue file (`[{id, sku?, name, description?, price, stock, category}]`) into the
//! store table, through the same repository the functions use (so each sku gets its guard).
//! A product without a sku gets one derived from its id (`P-<id hex>`), the same on every load.
//! `seed-catalogue local/catalogue.json`
use serde::Deserialize;
use shared::domain::{MAX_STOCK, Product, ProductId, Sku};
use shared::money::Money;
use shared::store::Store;

#[derive(Deserialize)]
struct CatalogueEntry {
    id: String,
    sku: Option<String>,
    name: String,
    #[serde(default)]
    description: String,
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
        let id = ProductId::parse(&entry.id)
            .ok_or_else(|| format!("{}: id is not a UUID", entry.name))?;
        let sku = match &entry.sku {
            Some(sku) => {
                Sku::parse(sku).ok_or_else(|| format!("{}: sku {sku:?} is invalid", entry.name))?
            }
            None => Sku::parse(&format!("P-{}", id.as_uuid().simple()))
                .ok_or_else(|| format!("{}: no sku derivable", entry.name))?,
        };
        if entry.stock > MAX_STOCK {
            return Err(format!("{}: stock above {MAX_STOCK}", entry.name).into());
        }
        let product = Product {
            id,
            sku,
            description: entry.description.clone(),
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
