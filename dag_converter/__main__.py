from dag_converter.cli import main

main()
