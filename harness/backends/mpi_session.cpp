#include "harness/backends/mpi_session.h"

#include <cstdlib>

#include "harness/core/error.h"

#if SHARDBENCH_HAVE_MPI
#include <mpi.h>
#endif

namespace sb {

bool launched_under_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

#if SHARDBENCH_HAVE_MPI
mpi_session::mpi_session(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m_size);
}
mpi_session::~mpi_session() { MPI_Finalize(); }
#else
mpi_session::mpi_session(int*, char***) { throw_config("launched under mpirun, but this build has no MPI"); }
mpi_session::~mpi_session() = default;
#endif

}  // namespace sb
