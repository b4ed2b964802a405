"""Pure rules of the GPOs: problem scope and lifecycle, clusters, weekly figures, charts."""
