//! Prints the API's OpenAPI document (`openapi [server URL]`, `/` by default): what the local
//! stack serves at `/api/openapi.json` and a deployment publishes beside the storefront.
fn main() {
    let server = std::env::args().nth(1).unwrap_or_else(|| "/".into());
    match shop_openapi::document(&server).to_pretty_json() {
        Ok(json) => println!("{json}"),
        Err(error) => {
            eprintln!("openapi: {error}");
            std::process::exit(1);
        }
    }
}
