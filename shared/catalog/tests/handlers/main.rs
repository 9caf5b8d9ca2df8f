//! The catalogue's handlers in-process: a request in, a response out, with DynamoDB
//! answered by the SDK's own mocks (aws-smithy-mocks). What reaches DynamoDB is checked too,
//! and that a request refused before storage reaches none of it.

mod inventory;
mod products;
