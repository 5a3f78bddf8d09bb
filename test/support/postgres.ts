// PostgreSQL for tests: the throwaway cluster (server/src/store/postgres/temp-cluster.ts, which the
// telemetry benchmark also uses) and a skip-or-fail check for the binaries.
import { postgresBinDir } from '../../server/src/store/postgres/temp-cluster.ts';
import { missingTool } from './tools.ts';

export { postgresBinDir, startPostgres, type TestPostgres } from '../../server/src/store/postgres/temp-cluster.ts';

/** Skip reason (or a throw under FLOTILLA_REQUIRE_TOOLS=1) when PostgreSQL is not installed. */
export const postgresMissing = () => missingTool('postgresql', postgresBinDir() !== null, 'apt-get install postgresql');
