"""One router per area of the product."""
