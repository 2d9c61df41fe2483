-- Sample data for a development database (`supabase db reset` runs this file; so
-- does `uuid-lookup db seed`). Deterministic ids, so running it twice adds nothing.

INSERT INTO public.micro_services (id, slug, name)
SELECT md5('micro-service:' || s.slug)::uuid, s.slug, s.name
FROM (VALUES
  ('wall-painting', 'Wall painting'), ('ceiling-painting', 'Ceiling painting'),
  ('exterior-painting', 'Exterior painting'), ('wallpaper-hanging', 'Wallpaper hanging'),
  ('plastering', 'Plastering'), ('drywall-installation', 'Drywall installation'),
  ('drywall-repair', 'Drywall repair'), ('tiling-floor', 'Floor tiling'),
  ('tiling-wall', 'Wall tiling'), ('grout-repair', 'Grout repair'),
  ('laminate-flooring', 'Laminate flooring'), ('parquet-sanding', 'Parquet sanding'),
  ('carpet-laying', 'Carpet laying'), ('vinyl-flooring', 'Vinyl flooring'),
  ('kitchen-assembly', 'Kitchen assembly'), ('furniture-assembly', 'Furniture assembly'),
  ('door-installation', 'Door installation'), ('window-installation', 'Window installation'),
  ('window-sealing', 'Window sealing'), ('roof-repair', 'Roof repair'),
  ('gutter-cleaning', 'Gutter cleaning'), ('chimney-sweeping', 'Chimney sweeping'),
  ('facade-insulation', 'Facade insulation'), ('attic-insulation', 'Attic insulation'),
  ('socket-installation', 'Socket installation'), ('light-fitting', 'Light fitting'),
  ('fuse-box-replacement', 'Fuse box replacement'), ('ev-charger-installation', 'EV charger installation'),
  ('smoke-detector-installation', 'Smoke detector installation'), ('doorbell-installation', 'Doorbell installation'),
  ('tap-replacement', 'Tap replacement'), ('toilet-repair', 'Toilet repair'),
  ('drain-unblocking', 'Drain unblocking'), ('boiler-service', 'Boiler service'),
  ('radiator-bleeding', 'Radiator bleeding'), ('underfloor-heating', 'Underfloor heating'),
  ('bathroom-renovation', 'Bathroom renovation'), ('shower-installation', 'Shower installation'),
  ('bathtub-resealing', 'Bathtub resealing'), ('water-heater-installation', 'Water heater installation'),
  ('garden-maintenance', 'Garden maintenance'), ('hedge-trimming', 'Hedge trimming'),
  ('lawn-mowing', 'Lawn mowing'), ('tree-felling', 'Tree felling'),
  ('fence-building', 'Fence building'), ('decking', 'Decking'),
  ('paving', 'Paving'), ('pressure-washing', 'Pressure washing'),
  ('moving-help', 'Moving help'), ('house-clearance', 'House clearance'),
  ('end-of-tenancy-cleaning', 'End of tenancy cleaning'), ('window-cleaning', 'Window cleaning'),
  ('carpet-cleaning', 'Carpet cleaning'), ('mould-removal', 'Mould removal'),
  ('pest-control', 'Pest control'), ('lock-change', 'Lock change'),
  ('alarm-installation', 'Alarm installation'), ('cctv-installation', 'CCTV installation'),
  ('tv-wall-mounting', 'TV wall mounting'), ('shelf-mounting', 'Shelf mounting')
) AS s (slug, name)
ON CONFLICT DO NOTHING;

-- Jobs from before micro_uuid existed: most slugs match a service; some are the
-- legacy or misspelt slugs the spec's troubleshooting talks about, and a few jobs
-- were submitted without any slug.
INSERT INTO public.jobs (id, micro_id, title, created_at)
SELECT md5('job:' || g)::uuid,
       CASE
         WHEN g % 50 = 0 THEN NULL
         WHEN g % 17 = 0 THEN (ARRAY['wall_painting', 'Wall-Painting', 'painting', 'handyman', 'electrician'])[1 + g % 5]
         ELSE (SELECT slug FROM public.micro_services ORDER BY slug OFFSET (g * 7919) % 60 LIMIT 1)
       END,
       'Sample job ' || g,
       now() - make_interval(mins => g * 11)
FROM generate_series(1, 2000) AS g
ON CONFLICT DO NOTHING;
