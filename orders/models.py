"""Models of food ordering arrive with the orders issue."""
