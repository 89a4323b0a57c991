from dlwatch.cli import main

main()
