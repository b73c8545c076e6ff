from dues.cli.main import main

main()
