import {Args, Flags} from '@oclif/core'
import {NsxCommand} from '../src/cli/command.js'

export default class Build extends NsxCommand {
  static override summary = 'Build an image from a Dockerfile'
  static override description = `Builds CONTEXT's Dockerfile (or -f FILE; Containerfile when there is no Dockerfile) into an OCI image in the layer store, named by each -t. Supported: FROM (scratch, AS NAME, multi-stage, images pulled when missing), RUN (shell and exec form, each in an nsx container with the host's network, or --network's), COPY and ADD (wildcards, --chown, --from=STAGE|IMAGE, directories; ADD unpacks local tar archives), ENV, ARG (--build-arg), WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE, LABEL, VOLUME, SHELL, STOPSIGNAL, MAINTAINER, HEALTHCHECK and ONBUILD (recorded), line continuations, the escape directive, and .dockerignore.

Every step that changes files (RUN, COPY, ADD, a WORKDIR that must be made) becomes one layer, taken from the container's upper directory (deletions as whiteouts); the config's history lists every step. Steps are cached by the layers below them, their config, the instruction and the contents of the files they copy: an unchanged rebuild runs no RUN and says "Using cache" for every step after FROM (--no-cache runs every step). With --cache-from IMAGE the local cache is set aside and only the images named are cache sources, as in docker's classic builder: a step is cached when one of them was built by the same steps so far and has this step next (its layer is reused). A failing step stops the build with its step number, Dockerfile line and exit status.`

  static override enableJsonFlag = true
  static override strict = false

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %> -t app:1.0 .', description: 'Build the Dockerfile in the current directory.'},
    {command: '<%= config.bin %> <%= command.id %> -t app -f build/Dockerfile --build-arg VERSION=2 --target runtime .', description: 'Another Dockerfile, a build argument, one stage.'},
  ]

  static override args = {
    context: Args.string({description: 'The build context directory', default: '.'}),
  }

  static override flags = {
    tag: Flags.string({char: 't', description: 'Name the image NAME[:TAG] (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'NAME[:TAG]'}),
    file: Flags.string({char: 'f', description: 'The Dockerfile (default CONTEXT/Dockerfile)', helpValue: 'FILE'}),
    'build-arg': Flags.string({description: 'Set a build argument (repeatable); KEY alone takes it from the environment', multiple: true, multipleNonGreedy: true, helpValue: 'KEY=VALUE'}),
    target: Flags.string({description: 'Build up to this stage and name it', helpValue: 'STAGE'}),
    'no-cache': Flags.boolean({description: 'Run every step, using no cached layer'}),
    'cache-from': Flags.string({description: 'Take cached steps only from this image (repeatable): a step is cached when the image was built by the same steps and has it next (docker\'s classic builder)', multiple: true, multipleNonGreedy: true, helpValue: 'IMAGE'}),
    'add-host': Flags.string({description: 'Add a line to each RUN\'s /etc/hosts (repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'NAME:IP'}),
    network: Flags.string({description: "The network of each RUN: host (the default), none, or a network of nsx network create, where RUN reaches the containers by name (docker build --network)", helpValue: 'host|none|NAME'}),
    quiet: Flags.boolean({char: 'q', description: 'Print only the image id (RUN output goes to stderr)'}),
  }

  async run(): Promise<void> {
    const {runBuild} = await import('../src/build/main.js')
    const outcome = await runBuild(this.argv)
    if (outcome.kind === 'help') {
      const {loadHelpClass} = await import('@oclif/core')
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['build'])
      return
    }
    process.exitCode = outcome.exitCode
  }
}
