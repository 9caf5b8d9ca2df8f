//! The products this process has read to price orders, kept so that its next order of them is
//! one call to the table, the transaction, rather than a read and then the transaction. They
//! decide nothing: the transaction holds every line to the product as the table has it (the
//! price and name the line was priced with, enough stock, still on sale), so an order priced
//! from a product that changed since is not written, and the product is read again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use shop_domain::{Product, ProductId};

use super::StoredProduct;

/// At most this many products are kept; past it, the memory starts again (a warm instance
/// sells from far fewer, and a product forgotten costs one read).
const CAPACITY: usize = 1_000;

/// Products on sale as they were read, shared by the clones of one store.
#[derive(Debug, Clone, Default)]
pub(super) struct KnownProducts(Arc<Mutex<HashMap<ProductId, Product>>>);

impl KnownProducts {
    /// Every one of `ids`, as last read; `None` unless all of them are known.
    pub fn all(&self, ids: &[ProductId]) -> Option<HashMap<ProductId, StoredProduct>> {
        let known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        ids.iter()
            .map(|id| {
                let product = known.get(id)?.clone();
                Some((
                    *id,
                    StoredProduct {
                        product,
                        retired: false,
                    },
                ))
            })
            .collect()
    }

    /// Keeps the products on sale of a read, and forgets those that are not.
    pub fn learn<'a>(&self, read: impl IntoIterator<Item = &'a StoredProduct>) {
        let mut known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for stored in read {
            if stored.retired {
                known.remove(&stored.product.id);
                continue;
            }
            if known.len() >= CAPACITY && !known.contains_key(&stored.product.id) {
                known.clear();
            }
            known.insert(stored.product.id, stored.product.clone());
        }
    }

    pub fn forget(&self, ids: &[ProductId]) {
        let mut known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            known.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use shop_domain::{Category, Description, ProductName, Sku, StockLevel};

    use super::*;

    fn on_sale(name: &str) -> StoredProduct {
        StoredProduct {
            product: Product {
                id: ProductId::new(),
                name: ProductName::parse(name).unwrap(),
                price: "4.99".parse().unwrap(),
                stock: StockLevel::new(3).unwrap(),
                category: Category::parse("Electronics").unwrap(),
                sku: Sku::generate(),
                description: Description::parse("").unwrap(),
            },
            retired: false,
        }
    }

    #[test]
    fn an_order_is_priced_from_memory_only_when_every_product_is_known() {
        let known = KnownProducts::default();
        let (a, b) = (on_sale("Product A"), on_sale("Product B"));
        let ids = [a.product.id, b.product.id];
        known.learn([&a]);
        assert!(known.all(&ids).is_none());
        known.clone().learn([&b]);
        let all = known.all(&ids).expect("both known, by either clone");
        assert_eq!(all[&b.product.id], b);
        known.forget(&ids[..1]);
        assert!(known.all(&ids).is_none());
        assert!(known.all(&ids[1..]).is_some());
    }

    #[test]
    fn a_retired_product_is_forgotten_and_the_memory_stays_bounded() {
        let known = KnownProducts::default();
        let mut product = on_sale("Product A");
        known.learn([&product]);
        product.retired = true;
        known.learn([&product]);
        assert!(known.all(&[product.product.id]).is_none());
        let many: Vec<StoredProduct> = (0..=CAPACITY).map(|_| on_sale("Product B")).collect();
        known.learn(&many);
        let held = known.0.lock().unwrap().len();
        assert!((1..=CAPACITY).contains(&held), "{held}");
        assert!(known.all(&[many[CAPACITY].product.id]).is_some());
    }
}
