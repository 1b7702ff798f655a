import { makeTestApp } from '../helpers/app.js';
import { describeWithPostgres } from '../helpers/postgres.js';
import { postgresTestApp } from './postgres-app.js';
import { describeResetFlows } from './reset-password-suite.js';

describeResetFlows('password reset, one step and two, on SQLite', (env) => makeTestApp(env));

describeWithPostgres('password reset on PostgreSQL', (url) => {
  describeResetFlows('the same flows', (env) => postgresTestApp(url, 'sfa_reset', env));
});
