// The runner's own tests once more, every run forked by the spawner (spawner.ts) as the agent
// does, so both ways of forking a run keep the same behaviour.
import './runner-spawner-on';
import './runner-exec.test';
import './runner-kill.test';
import './runner-output.test';
import './runner-environment.test';
import './runner-start-line.test';
import './runner-flood.test';
