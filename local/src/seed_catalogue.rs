//! Loads a catalogue file (`[{id, sku?, name, description?, price, stock, category}]`) into the
//! store table (`STORE_TABLE`), through the same repository the functions use (so each sku
//! gets its guard). Only products not there yet are added: a product already in the table,
//! on sale or retired, keeps whatever it has become (its stock, its price), so loading twice,
//! or into a shop that is trading, changes nothing that is there. A product without a sku gets
//! one derived from its id (`P-<id hex>`), the same on every load.
//! `seed-catalogue local/catalogue.json` (the local stack, and `make seed-deployed` for a
//! deployed one).
use serde::Deserialize;
use shop_catalog::Store;
use shop_catalog::store::Inserted;
use shop_domain::{
    Category, Description, MAX_PRICE_CENTS, Money, Product, ProductId, ProductName, Sku,
    StockLevel, is_valid_price,
};

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

impl CatalogueEntry {
    fn product(&self) -> Result<Product, String> {
        let problem = |what: &str| format!("{}: {what}", self.name);
        let id = ProductId::parse(&self.id).ok_or_else(|| problem("id is not a UUID"))?;
        let sku = match &self.sku {
            Some(sku) => Sku::parse(sku).map_err(|error| problem(&format!("sku {error}")))?,
            None => Sku::parse(&format!("P-{}", id.as_uuid().simple()))
                .map_err(|_| problem("no sku derivable"))?,
        };
        let price =
            Money::parse_exact(&self.price).map_err(|error| problem(&format!("price {error}")))?;
        if !is_valid_price(price) {
            let most = Money::from_cents(MAX_PRICE_CENTS).unwrap_or(Money::ZERO);
            return Err(problem(&format!(
                "price must be more than 0 and at most {most}"
            )));
        }
        Ok(Product {
            id,
            sku,
            name: ProductName::parse(&self.name)
                .map_err(|error| problem(&format!("name {error}")))?,
            description: Description::parse(&self.description)
                .map_err(|error| problem(&format!("description {error}")))?,
            price,
            stock: StockLevel::new(self.stock).ok_or_else(|| problem("stock is too large"))?,
            category: Category::parse(&self.category)
                .map_err(|error| problem(&format!("category {error}")))?,
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: seed-catalogue <catalogue.json>")?;
    let entries: Vec<CatalogueEntry> = serde_json::from_slice(&std::fs::read(&path)?)?;
    let store = Store::from_env(&shop_runtime::aws().await)?;
    let (mut added, mut kept) = (0, 0);
    for entry in &entries {
        let product = entry.product()?;
        if store.product(&product.id).await?.is_some() {
            kept += 1;
            continue;
        }
        match store.insert_product(&product).await? {
            Inserted::Done => added += 1,
            Inserted::SkuTaken => {
                return Err(
                    format!("{}: sku {} is another product's", entry.name, product.sku).into(),
                );
            }
            Inserted::Contended => {
                return Err(format!("{}: the table was busy; load again", entry.name).into());
            }
        }
    }
    println!("{path}: {added} products added, {kept} already there and left as they are");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(price: &str) -> CatalogueEntry {
        CatalogueEntry {
            id: "c0ffee00-c0de-f00d-baad-f00dc0ffee00".into(),
            sku: None,
            name: "Smartphone".into(),
            description: String::new(),
            price: price.into(),
            stock: 5,
            category: "Electronics".into(),
        }
    }

    #[test]
    fn prices_outside_the_catalogues_bounds_are_refused() {
        assert_eq!(
            entry("599.99").product().unwrap().price.to_string(),
            "599.99"
        );
        assert_eq!(
            entry("1000000.00").product().unwrap().price.cents(),
            MAX_PRICE_CENTS
        );
        for price in ["0", "0.00", "1000000.01", "92233720368547758.07"] {
            let refused = entry(price).product().unwrap_err();
            assert!(refused.contains("price"), "{price}: {refused}");
        }
    }
}
