"""The one HTTP client every request of the suite goes through."""
