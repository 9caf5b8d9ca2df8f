//! Prints the API's OpenAPI document (what `GET /api/openapi.json` serves), for tools and for
//! local/test_stack.py's check that it, template.yaml and the watch router agree.
fn main() {
    match shared::openapi::document("").to_pretty_json() {
        Ok(json) => println!("{json}"),
        Err(error) => {
            eprintln!("openapi: {error}");
            std::process::exit(1);
        }
    }
}
