"""The API's SQL, one module per area; every query is scoped to one user id."""
