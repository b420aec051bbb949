// Removes dist/ before every build, so a deleted source or test file leaves no compiled file behind to run.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
