"""Where France is: generous boxes around metropolitan France, Corsica and overseas.

The sheet only needs to refuse a point that is plainly not in France (a swapped
lat/lon, a 0,0 from a GPS without a fix); routing decides the commune precisely.
"""

# (name, min_lat, max_lat, min_lon, max_lon)
FRENCH_TERRITORY_BOXES: tuple[tuple[str, float, float, float, float], ...] = (
    ("metropolitan France and Corsica", 41.2, 51.2, -5.3, 9.7),
    ("Guadeloupe", 15.8, 16.6, -61.9, -60.9),
    ("Martinique", 14.3, 14.95, -61.3, -60.75),
    ("Guyane", 2.0, 5.9, -54.7, -51.5),
    ("La Réunion", -21.45, -20.8, 55.15, 55.9),
    ("Mayotte", -13.1, -12.55, 44.95, 45.35),
    ("Saint-Pierre-et-Miquelon", 46.7, 47.2, -56.5, -56.1),
    ("Saint-Martin and Saint-Barthélemy", 17.85, 18.15, -63.2, -62.75),
    ("Polynésie française", -28.0, -7.0, -155.0, -134.0),
    ("Nouvelle-Calédonie", -23.0, -19.0, 163.0, 169.0),
    ("Wallis-et-Futuna", -14.5, -13.1, -178.3, -176.0),
)


def is_in_france(lat: float, lon: float) -> bool:
    """True when the point lies in one of the boxes around French territory."""
    return any(
        min_lat <= lat <= max_lat and min_lon <= lon <= max_lon
        for _, min_lat, max_lat, min_lon, max_lon in FRENCH_TERRITORY_BOXES
    )
