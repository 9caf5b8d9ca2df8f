//! Black-box tests of the running local stack live in tests/.
