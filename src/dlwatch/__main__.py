from dlwatch.cli.app import main

main()
