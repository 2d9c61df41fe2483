import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { mapJobSlugToService } from '../../node/migration/migration-operations.ts';
import { addMicroServices, parseServicesFile, ServiceInputError, validateService } from '../../node/services/micro-services.ts';
import type { DatabaseCommandOptions } from '../cli-context.ts';
import { CliError, withDatabase } from '../cli-context.ts';
import { databaseOptions } from '../cli-options.ts';
import { printRecord } from '../output.ts';

const asCliError = (error: unknown): unknown => (error instanceof ServiceInputError ? new CliError(error.message) : error);

export function registerServicesCommands(program: Command): void {
  const services = program.command('services').description("micro_services entries (the spec's fix for missing services)");
  databaseOptions(
    services.command('add <slug>').description('add a micro_service (nothing happens if the slug exists)').option('--name <name>', 'display name'),
  ).action(async (slug: string, options: DatabaseCommandOptions & { name?: string }) => {
    let input;
    try {
      input = validateService({ slug, name: options.name }, 'slug');
    } catch (error) {
      throw asCliError(error);
    }
    await withDatabase(options, async (database) => {
      const added = await addMicroServices(database, [input]);
      printRecord({ slug, added: added.length === 1 }, options.json);
    });
  });
  databaseOptions(
    services
      .command('map <job-slug>')
      .description(
        "give jobs whose slug no service has (wall_painting, Wall-Painting) the UUID of an existing service: " +
          "one migration run, undone by 'migrate rollback RUN_ID'",
      )
      .requiredOption('--to <service-slug>', 'the micro_services slug these jobs mean, e.g. wall-painting'),
  ).action(async (jobSlug: string, options: DatabaseCommandOptions & { to: string }) => {
    await withDatabase(options, async (database) => {
      const result = await mapJobSlugToService(database, jobSlug, options.to);
      printRecord({ job_slug: jobSlug, service_slug: options.to, jobs_mapped: result.jobsMapped, run_id: result.runId }, options.json);
    });
  });
  databaseOptions(
    services.command('import <file>').description('add micro_services from CSV (header: slug,name) or a JSON array; all or nothing'),
  ).action(async (file: string, options: DatabaseCommandOptions) => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    let inputs;
    try {
      inputs = parseServicesFile(text, file);
    } catch (error) {
      throw asCliError(error);
    }
    await withDatabase(options, async (database) => {
      const added = await database.transaction((tx) => addMicroServices(tx, inputs));
      printRecord({ file, rows: inputs.length, added: added.length, already_present: new Set(inputs.map((i) => i.slug)).size - added.length }, options.json);
    });
  });
}
