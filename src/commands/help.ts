import {Args, Command, loadHelpClass} from '@oclif/core'

export default class HelpCommand extends Command {
  static summary = 'Show help for laundry-ops or one of its topics and commands'
  static examples = ['<%= config.bin %> help', '<%= config.bin %> help db', '<%= config.bin %> help db migrate']
  static args = {command: Args.string({required: false, description: 'topic or command, e.g. "db migrate"'})}
  static strict = false

  async run(): Promise<void> {
    const {argv} = await this.parse(HelpCommand)
    const Help = await loadHelpClass(this.config)
    await new Help(this.config, {all: false}).showHelp(argv as string[])
  }
}
