"""Maps: the street base map Doorstep serves, and address search."""
