"""Above one GPO (issue 16): the national and départemental view of the GPOs' work,
and the hotspots of incidents by line, hour of the week and stop. Aggregates only."""
