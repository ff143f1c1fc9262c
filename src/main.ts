import { exitWith } from './cli/exit.js';
import { serveCommand } from './cli/serve-command.js';

/** `npm start`: the same as `stowage serve`. */
exitWith(serveCommand(process.argv.slice(2), process.env));
