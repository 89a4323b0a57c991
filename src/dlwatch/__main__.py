from dlwatch.cli.main import main

main()
