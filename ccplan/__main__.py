from ccplan.cli import main

main()
