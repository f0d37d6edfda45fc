from newsdesk.cli.main import run

run()
