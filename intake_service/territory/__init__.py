"""Where things are: GTFS feeds, communes, police zones, operators, and the routing rule."""
